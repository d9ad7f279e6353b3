/* Vector table and reset for the LM3S6965: copy .data, zero .bss, run main. A fault
 * resets the board with BOOT reason FAULT, so the host sees it instead of a hang. */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "cortex_m.h"

extern uint32_t _data_start, _data_end, _data_load, _bss_start, _bss_end, _stack_top;
int main(void);
void reset_handler(void);

static void fault_handler(void)
{
    board_note_fault();
    system_reset();
}

static void unused_handler(void)
{
    for (;;)
        ;
}

typedef void (*vector)(void);

__attribute__((section(".vectors"), used)) static const vector k_vectors[16 + 6] = {
    (vector)(uintptr_t)&_stack_top,
    reset_handler,
    unused_handler,    /* NMI */
    fault_handler,     /* HardFault */
    fault_handler,     /* MemManage */
    fault_handler,     /* BusFault */
    fault_handler,     /* UsageFault */
    0, 0, 0, 0,
    unused_handler,    /* SVCall */
    unused_handler,    /* DebugMon */
    0,
    unused_handler,    /* PendSV */
    systick_handler,   /* SysTick */
    unused_handler, unused_handler, unused_handler, unused_handler, unused_handler, /* IRQ 0-4 */
    uart0_handler,     /* IRQ 5: UART0 */
};

void reset_handler(void)
{
    memcpy(&_data_start, &_data_load, (size_t)((char *)&_data_end - (char *)&_data_start));
    memset(&_bss_start, 0, (size_t)((char *)&_bss_end - (char *)&_bss_start));
    main();
    for (;;)
        ;
}
