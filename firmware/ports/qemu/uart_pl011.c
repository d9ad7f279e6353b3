/* UART0 of the LM3S6965, an ARM PL011. Reception is interrupt-driven into a ring so
 * the core can sleep (WFI) between bytes: polling would pin a host core at 100 % under
 * QEMU. When the ring is full the RX interrupt is masked; QEMU then stops taking
 * bytes from the PTY, so nothing is lost, only delayed (a real UART would overrun:
 * rx_window in INFO keeps the host within the ring). */
#include "board.h"
#include "cortex_m.h"

#define UART0 0x4000C000u
#define DR REG32(UART0 + 0x000u)
#define FR REG32(UART0 + 0x018u)
#define LCRH REG32(UART0 + 0x02Cu)
#define CR REG32(UART0 + 0x030u)
#define IMSC REG32(UART0 + 0x038u)
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define RX_IRQS ((1u << 4) | (1u << 6)) /* receive, receive timeout */
#define UART0_IRQ 5u

#define RING 2048u /* a power of two */

static volatile uint8_t g_ring[RING];
static volatile uint32_t g_head, g_tail; /* head: ISR writes; tail: main loop reads */

void board_uart_init(void)
{
    CR = 0;
    LCRH = 0x70u; /* 8 bits, FIFOs on */
    IMSC = RX_IRQS;
    CR = (1u << 0) | (1u << 8) | (1u << 9); /* UARTEN, TXE, RXE */
    NVIC_ISER0 = 1u << UART0_IRQ;
}

void uart0_handler(void)
{
    while (!(FR & FR_RXFE)) {
        if (g_head - g_tail == RING) {
            IMSC = 0; /* full: leave the rest in the FIFO until the loop catches up */
            return;
        }
        g_ring[g_head % RING] = (uint8_t)DR;
        g_head++;
    }
}

size_t board_uart_read(uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n && g_tail != g_head) {
        p[got++] = g_ring[g_tail % RING];
        g_tail++;
    }
    IMSC = RX_IRQS; /* there is room again */
    return got;
}

int board_uart_pending(void) { return g_tail != g_head; }

void board_uart_write(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    while (n--) {
        while (FR & FR_TXFF)
            ;
        DR = *p++;
    }
}
