#include "rx_ring.h"

#include "board.h"

static volatile uint8_t g_ring[BOARD_UART_RING];
static volatile uint32_t g_head, g_tail; /* head: the ISR writes; tail: the main loop reads */

int rx_ring_full(void) { return g_head - g_tail == BOARD_UART_RING; }
int rx_ring_empty(void) { return g_head == g_tail; }

int rx_ring_put(uint8_t b)
{
    if (rx_ring_full())
        return 0;
    g_ring[g_head % BOARD_UART_RING] = b;
    g_head++;
    return 1;
}

size_t rx_ring_read(uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n && g_tail != g_head) {
        p[got++] = g_ring[g_tail % BOARD_UART_RING];
        g_tail++;
    }
    return got;
}
