/* What a board links for the protocol core: one device (its whole RAM state; frame
 * buffers are separate and caller-owned) and the calls a port makes. The size report
 * links this with --gc-sections to measure exactly the code a board carries. */
#include "fw_device.h"

fw_device g_device;

void fw_size_probe(const fw_config *cfg, const fw_hal *hal, uint8_t *rx, uint8_t *tx, const uint8_t *p, size_t n);

void fw_size_probe(const fw_config *cfg, const fw_hal *hal, uint8_t *rx, uint8_t *tx, const uint8_t *p, size_t n)
{
    fw_device_init(&g_device, cfg, hal, rx, tx);
    fw_device_boot(&g_device, FW_BOOT_POWER_ON);
    fw_device_input(&g_device, p, n);
    fw_device_poll(&g_device);
}
