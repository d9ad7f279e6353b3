/* ARM MPS2 FPGA image AN386 (Cortex-M4) on `qemu-system-arm -M mps2-an386`: 4 MB of
 * code SSRAM at 0, 4 MB of data SSRAM at 0x20000000; room for MLPerf Tiny-class models. */
#ifndef BOARD_CONFIG_H
#define BOARD_CONFIG_H

#define BOARD_KIND "qemu-mps2-an386"
#define BOARD_SYSTICK_HZ 25000000u /* the AN386 system clock SysTick counts (QEMU: in virtual time) */
/* Run under `-icount shift=4`: virtual time advances 2^4 ns per instruction, so the core
 * executes 62.5 M instructions per virtual second. INFO reports that as the clock (one
 * instruction per cycle), and on-device latencies are instructions x 16 ns. */
#define BOARD_ICOUNT_SHIFT 4u
#define BOARD_CPU_HZ (1000000000u >> BOARD_ICOUNT_SHIFT)
#define BOARD_UART_IRQ 0u          /* UART0 receive (transmit is IRQ 1) */
#define BOARD_UART_RING 16384u     /* a power of two; also the rx_window */
#define BOARD_MAX_PAYLOAD 4096u
#define BOARD_ARENA_BYTES (512u * 1024u)
#define BOARD_SLOT_BYTES (1024u * 1024u)
#define BOARD_UID_BYTES 6u
#define BOARD_POWER {3300, 8000, 25000} /* an M4F at ~60 MHz: a few mA idle, tens running */
/* The simulated current sensor (sim_ina): its driver configuration, 0.1 ohm shunt at 0x40. */
#define BOARD_SENSOR {FW_INA226, 0x40, 100000, 100000, 0}

#endif
