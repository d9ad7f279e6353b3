/* The UART receive ring shared by the QEMU boards' drivers: the interrupt handler puts,
 * the main loop reads. Single producer, single consumer; BOARD_UART_RING is a power of two. */
#ifndef RX_RING_H
#define RX_RING_H
#include <stddef.h>
#include <stdint.h>

/* Store one byte; 0 when the ring is full (the byte was not taken). */
int rx_ring_put(uint8_t b);
int rx_ring_full(void);
int rx_ring_empty(void);
/* Up to n bytes, oldest first. */
size_t rx_ring_read(uint8_t *p, size_t n);

#endif
