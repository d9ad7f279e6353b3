/* Vector table and reset for the QEMU Cortex-M boards: enable the FPU (M4F builds),
 * copy .data, zero .bss, run static constructors (the C++ runner has some), run main.
 * A fault resets the board with BOOT reason FAULT, so the host sees it instead of a hang. */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "cortex_m.h"

typedef void (*vector)(void);

extern uint32_t _data_start, _data_end, _data_load, _bss_start, _bss_end, _stack_top;
extern vector __init_array_start[], __init_array_end[];
int main(void);
void reset_handler(void);

static void fault_handler(void)
{
    board_note_fault();
    system_reset();
}

/* Where the C library ends a program (abort(): TFLM's TFLITE_ABORT, libstdc++ without
 * exceptions): reset with BOOT reason FAULT, as a fault does. */
void _exit(int status);
void _exit(int status)
{
    (void)status;
    fault_handler();
    for (;;)
        ;
}

/* The C++ runtime's handle for registering static destructors (crtbegin.o defines it; we
 * link without start files). They never run: main does not return. */
void *__dso_handle = 0;

static void unused_handler(void)
{
    for (;;)
        ;
}

/* Interrupts other than the UART's are never enabled; their entries stay 0. */
__attribute__((section(".vectors"), used)) static const vector k_vectors[16 + BOARD_UART_IRQ + 1] = {
    [0] = (vector)(uintptr_t)&_stack_top,
    [1] = reset_handler,
    [2] = unused_handler,  /* NMI */
    [3] = fault_handler,   /* HardFault */
    [4] = fault_handler,   /* MemManage */
    [5] = fault_handler,   /* BusFault */
    [6] = fault_handler,   /* UsageFault */
    [11] = unused_handler, /* SVCall */
    [12] = unused_handler, /* DebugMon */
    [14] = unused_handler, /* PendSV */
    [15] = systick_handler,
    [16 + BOARD_UART_IRQ] = board_uart_irq,
};

void reset_handler(void)
{
#if defined(__ARM_FP)
    SCB_CPACR |= 0xFu << 20; /* CP10, CP11: full access, before any floating-point instruction */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    memcpy(&_data_start, &_data_load, (size_t)((char *)&_data_end - (char *)&_data_start));
    memset(&_bss_start, 0, (size_t)((char *)&_bss_end - (char *)&_bss_start));
    for (vector *f = __init_array_start; f < __init_array_end; f++)
        (*f)();
    main();
    for (;;)
        ;
}
