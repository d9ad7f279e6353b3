/* The QEMU lm3s6965evb board glue: UART0 (PL011) with an interrupt-fed receive ring,
 * the SysTick microsecond clock, and the RAM slot store. */
#ifndef BOARD_H
#define BOARD_H
#include <stddef.h>
#include <stdint.h>

#include "fw_hal.h"

#define BOARD_CPU_HZ 12500000u /* QEMU's Stellaris clock with the reset RCC value */

void board_uart_init(void);
/* Bytes received so far, up to n; never blocks. */
size_t board_uart_read(uint8_t *p, size_t n);
int board_uart_pending(void);
void board_uart_write(void *ctx, const uint8_t *p, size_t n);
void board_clock_init(void);
uint64_t board_now_us(void *ctx);

/* RAM slot store; kept across a warm reset, lost when QEMU exits. */
fw_store board_ram_store(uint32_t slot_bytes);
/* The reason the next boot reports, kept across the reset. */
uint8_t board_take_boot_reason(void);
void board_note_reboot(void);
void board_note_fault(void);

void systick_handler(void);
void uart0_handler(void);

#endif
