/* TI LM3S6965 on `qemu-system-arm -M lm3s6965evb`: sized for the part's 64 KB of RAM. */
#ifndef BOARD_CONFIG_H
#define BOARD_CONFIG_H

#define BOARD_KIND "qemu-lm3s6965"
#define BOARD_SYSTICK_HZ 12500000u /* QEMU's Stellaris clock with the reset RCC value */
#define BOARD_CPU_HZ BOARD_SYSTICK_HZ
#define BOARD_UART_IRQ 5u          /* UART0 */
#define BOARD_UART_RING 2048u      /* a power of two; also the rx_window */
#define BOARD_MAX_PAYLOAD 1024u
#define BOARD_ARENA_BYTES 8192u
#define BOARD_SLOT_BYTES 12288u    /* hello_world is 2.7 KB */
#define BOARD_UID_BYTES 6u
#define BOARD_POWER {3300, 30000, 45000} /* an LM3S6965 at 50 MHz draws tens of mA */
/* The simulated current sensor (sim_ina): its driver configuration, 0.1 ohm shunt at 0x40. */
#define BOARD_SENSOR {FW_INA219, 0x40, 100000, 100000, 0}

#endif
