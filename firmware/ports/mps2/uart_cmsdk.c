/* UART0 of the MPS2 AN386, an ARM CMSDK APB UART: one receive holding register, no FIFO.
 * Reception is interrupt-driven into a ring so the core sleeps (WFI) between bytes. While
 * the ring is full the byte stays in the holding register (QEMU takes no more from the
 * PTY until it is read), and the main loop drains it once there is room: nothing is lost.
 * Output waits for the transmitter at most TX_STALL_US; then, as a UART with nobody
 * listening does, it drops bytes until the host reads again, so the core never spins on
 * a PTY nobody reads (QEMU holds the byte until the PTY takes it). */
#include "board.h"
#include "cortex_m.h"
#include "rx_ring.h"

#define UART0 0x40004000u
#define DATA REG32(UART0 + 0x000u)
#define STATE REG32(UART0 + 0x004u)
#define CTRL REG32(UART0 + 0x008u)
#define INTCLEAR REG32(UART0 + 0x00Cu)
#define BAUDDIV REG32(UART0 + 0x010u)
#define STATE_TXFULL (1u << 0)
#define STATE_RXFULL (1u << 1)
#define CTRL_TX_EN (1u << 0)
#define CTRL_RX_EN (1u << 1)
#define CTRL_RX_INT_EN (1u << 3)
#define INT_RX (1u << 1)
#define TX_STALL_US 50000u

static int g_tx_stalled; /* the last wait timed out: drop until the transmitter is free */

void board_uart_init(void)
{
    BAUDDIV = BOARD_SYSTICK_HZ / 115200u; /* QEMU ignores the UART below 16; the line rate is not modelled */
    CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN;
    NVIC_ISER0 = 1u << BOARD_UART_IRQ;
}

/* Move the held byte into the ring if there is room. */
static void take_byte(void)
{
    if ((STATE & STATE_RXFULL) && !rx_ring_full())
        rx_ring_put((uint8_t)DATA);
}

void board_uart_irq(void)
{
    INTCLEAR = INT_RX; /* before reading, so a byte that lands after the read raises it again */
    take_byte();
}

size_t board_uart_read(uint8_t *p, size_t n)
{
    size_t got = rx_ring_read(p, n);
    irq_disable();
    take_byte(); /* one the interrupt left while the ring was full */
    irq_enable();
    return got;
}

int board_uart_pending(void) { return !rx_ring_empty() || (STATE & STATE_RXFULL); }

void board_uart_write(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    while (n--) {
        if (STATE & STATE_TXFULL) {
            if (g_tx_stalled)
                return;
            uint64_t t0 = board_now_us(NULL);
            while (STATE & STATE_TXFULL)
                if (board_now_us(NULL) - t0 > TX_STALL_US) {
                    g_tx_stalled = 1;
                    return;
                }
        }
        g_tx_stalled = 0;
        DATA = *p++;
    }
}
