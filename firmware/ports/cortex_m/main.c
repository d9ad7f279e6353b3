/* The firmware on an emulated Cortex-M board: the UART on a host PTY, RAM-backed slots,
 * power measured by the INA219/INA226 driver from a simulated part on the I2C HAL (QEMU
 * models no such chip: ports/common/sim_ina.h, fed by the power model and the inference
 * marker), and the port's runner (TFLM, or the C reference runner). The board's sizes,
 * clock and sensor are in its board_config.h (ports/qemu: lm3s6965evb, ports/mps2:
 * mps2-an386). */
#include "board.h"
#include "cortex_m.h"
#include "fw_device.h"
#include "fw_version.h"
#include "model_power.h"
#include "port_runner.h"
#include "sim_ina.h"

static uint8_t g_arena[BOARD_ARENA_BYTES] __attribute__((aligned(16)));
static uint8_t g_rx[FW_RX_BUF_SIZE(BOARD_MAX_PAYLOAD)], g_tx[FW_TX_BUF_SIZE(BOARD_MAX_PAYLOAD)];
static model_power g_power = BOARD_POWER;
static const fw_ina_config k_sensor = BOARD_SENSOR;
static sim_ina g_part;
static fw_i2c g_i2c;
static fw_ina g_ina;
static fw_hal g_hal;
static fw_device g_dev;
static uint8_t g_uid[BOARD_UID_BYTES];

int main(void)
{
    board_uid(g_uid);
    const fw_config cfg = {g_uid, sizeof g_uid, BOARD_KIND, FLEET_FW_VERSION, BOARD_CPU_HZ, BOARD_MAX_PAYLOAD,
                           BOARD_UART_RING, 10000, 10, FW_CAP_DEFLATE | FW_CAP_DELTA}; /* RAM slots */

    board_clock_init();
    board_uart_init();
    g_hal.uart.write = board_uart_write;
    g_hal.clock.now_us = board_now_us;
    g_hal.store = board_ram_store();
    g_hal.power = model_power_meter(&g_power);
    g_hal.runner = port_runner_make(g_arena, BOARD_ARENA_BYTES);
    sim_ina_init(&g_part, k_sensor.chip, k_sensor.addr, k_sensor.shunt_uohm, &g_power, &g_hal.clock);
    g_i2c = sim_ina_bus(&g_part);
    fw_ina_init(&g_ina, &g_i2c, &k_sensor);
    g_hal.sensor = fw_ina_sensor(&g_ina);
    g_hal.marker = sim_ina_marker(&g_part);
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
