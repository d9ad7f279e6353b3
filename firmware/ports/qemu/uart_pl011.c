/* UART0 of the LM3S6965, an ARM PL011. Reception is interrupt-driven into a ring so
 * the core can sleep (WFI) between bytes: polling would pin a host core at 100 % under
 * QEMU. When the ring is full the RX interrupt is masked; QEMU then stops taking
 * bytes from the PTY, so nothing is lost, only delayed (a real UART would overrun:
 * rx_window in INFO keeps the host within the ring). */
#include "board.h"
#include "cortex_m.h"
#include "rx_ring.h"

#define UART0 0x4000C000u
#define DR REG32(UART0 + 0x000u)
#define FR REG32(UART0 + 0x018u)
#define LCRH REG32(UART0 + 0x02Cu)
#define CR REG32(UART0 + 0x030u)
#define IMSC REG32(UART0 + 0x038u)
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define RX_IRQS ((1u << 4) | (1u << 6)) /* receive, receive timeout */

void board_uart_init(void)
{
    CR = 0;
    LCRH = 0x70u; /* 8 bits, FIFOs on */
    IMSC = RX_IRQS;
    CR = (1u << 0) | (1u << 8) | (1u << 9); /* UARTEN, TXE, RXE */
    NVIC_ISER0 = 1u << BOARD_UART_IRQ;
}

void board_uart_irq(void)
{
    while (!(FR & FR_RXFE)) {
        if (rx_ring_full()) {
            IMSC = 0; /* full: leave the rest in the FIFO until the loop catches up */
            return;
        }
        rx_ring_put((uint8_t)DR);
    }
}

size_t board_uart_read(uint8_t *p, size_t n)
{
    size_t got = rx_ring_read(p, n);
    IMSC = RX_IRQS; /* there is room again */
    return got;
}

int board_uart_pending(void) { return !rx_ring_empty(); }

void board_uart_write(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    while (n--) {
        while (FR & FR_TXFF)
            ;
        DR = *p++;
    }
}
