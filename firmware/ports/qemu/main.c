/* The QEMU port: the firmware on an emulated TI LM3S6965 (Cortex-M3), UART0 on a
 * host PTY, the reference runner, RAM-backed slots and modelled power. Sized for the
 * part's 64 KB of RAM: two 12 KB slots, an 8 KB arena, 1 KB frames. */
#include "board.h"
#include "cortex_m.h"
#include "fw_device.h"
#include "fw_ref_runner.h"
#include "fw_version.h"
#include "model_power.h"

#define MAX_PAYLOAD 1024u
#define ARENA_BYTES 8192u
#define SLOT_BYTES 12288u
#define FLASH_USER0 REG32(0x400FE1E0u) /* user registers: QEMU puts the NIC MAC there */
#define FLASH_USER1 REG32(0x400FE1E4u)

static uint8_t g_arena[ARENA_BYTES] __attribute__((aligned(16)));
static uint8_t g_rx[FW_RX_BUF_SIZE(MAX_PAYLOAD)], g_tx[FW_TX_BUF_SIZE(MAX_PAYLOAD)];
static fw_ref_runner g_runner;
static model_power g_power = {3300, 30000, 45000}; /* an LM3S6965 at 50 MHz draws tens of mA */
static fw_hal g_hal;
static fw_device g_dev;
static uint8_t g_uid[6];

int main(void)
{
    /* The board's MAC address (from the user registers) is its unique id. */
    uint32_t u0 = FLASH_USER0, u1 = FLASH_USER1;
    const uint8_t uid[6] = {(uint8_t)u0, (uint8_t)(u0 >> 8), (uint8_t)(u0 >> 16),
                            (uint8_t)u1, (uint8_t)(u1 >> 8), (uint8_t)(u1 >> 16)};
    for (unsigned i = 0; i < sizeof g_uid; i++)
        g_uid[i] = uid[i];
    const fw_config cfg = {g_uid, sizeof g_uid, "qemu-lm3s6965", FLEET_FW_VERSION, BOARD_CPU_HZ, MAX_PAYLOAD,
                           2048, 10000, 10};

    board_clock_init();
    board_uart_init();
    g_hal.uart.write = board_uart_write;
    g_hal.clock.now_us = board_now_us;
    g_hal.store = board_ram_store(SLOT_BYTES);
    g_hal.power = model_power_meter(&g_power);
    g_hal.runner = fw_ref_runner_make(&g_runner, g_arena, ARENA_BYTES);
    fw_device_init(&g_dev, &cfg, &g_hal, g_rx, g_tx);
    fw_device_boot(&g_dev, board_take_boot_reason());

    for (;;) {
        uint8_t buf[64];
        size_t n;
        while ((n = board_uart_read(buf, sizeof buf)) > 0 && !fw_device_reboot_requested(&g_dev))
            fw_device_input(&g_dev, buf, n);
        if (fw_device_reboot_requested(&g_dev)) {
            board_note_reboot();
            system_reset();
        }
        fw_device_poll(&g_dev);
        /* Sleep until the next interrupt (a byte, or the 1 ms tick); interrupts are
         * masked while checking so a byte arriving in between still wakes us. */
        irq_disable();
        if (!board_uart_pending())
            wait_for_interrupt();
        irq_enable();
    }
}
