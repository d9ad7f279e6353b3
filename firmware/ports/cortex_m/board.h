/* What the shared Cortex-M code (ports/cortex_m) needs from a board: its constants in
 * board_config.h (found through the board's include path), and the UART, uid and runner
 * glue below; the runner is port_runner.h's (TFLM with -DFW_RUNNER_TFLM). The boards: ports/qemu (lm3s6965evb) and ports/mps2 (mps2-an386). */
#ifndef BOARD_H
#define BOARD_H
#include <stddef.h>
#include <stdint.h>

#include "board_config.h"
#include "fw_hal.h"

/* UART: reception by interrupt into a ring; output blocks while the transmitter is busy. */
void board_uart_init(void);
/* Bytes received so far, up to n; never blocks. */
size_t board_uart_read(uint8_t *p, size_t n);
/* Nonzero when received bytes wait to be read (checked with interrupts masked before WFI). */
int board_uart_pending(void);
void board_uart_write(void *ctx, const uint8_t *p, size_t n);
void board_uart_irq(void);

/* The board's unique id (BOARD_UID_BYTES bytes): the MAC address QEMU gives its NIC. */
void board_uid(uint8_t uid[BOARD_UID_BYTES]);

/* Microseconds since boot from SysTick at BOARD_SYSTICK_HZ. */
void board_clock_init(void);
uint64_t board_now_us(void *ctx);
void systick_handler(void);

/* RAM slot store of two BOARD_SLOT_BYTES slots; kept across a warm reset, lost when QEMU exits. */
fw_store board_ram_store(void);
/* The reason the next boot reports, kept across the reset. */
uint8_t board_take_boot_reason(void);
void board_note_reboot(void);
void board_note_fault(void);

#endif
