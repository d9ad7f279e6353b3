/* Microseconds since boot from SysTick (processor clock, BOARD_SYSTICK_HZ): a 1 kHz interrupt counts milliseconds and
 * the counter value gives the fraction. The interrupt also wakes the main loop from
 * WFI, which is what schedules inference and POWER samples. */
#include "board.h"
#include "cortex_m.h"

#define TICKS_PER_MS (BOARD_SYSTICK_HZ / 1000u)

static volatile uint64_t g_ms;

void board_clock_init(void)
{
    SYST_RVR = TICKS_PER_MS - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* processor clock, interrupt, enable */
}

void systick_handler(void) { g_ms++; }

uint64_t board_now_us(void *ctx)
{
    (void)ctx;
    uint64_t ms;
    uint32_t left;
    do { /* retry if the millisecond ticked while we read */
        ms = g_ms;
        left = SYST_CVR;
    } while (ms != g_ms);
    return ms * 1000u + (uint64_t)(TICKS_PER_MS - 1u - left) * 1000u / TICKS_PER_MS;
}
