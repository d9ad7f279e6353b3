/* Arduino Nano 33 BLE Sense: the fleet firmware core on the board, with TFLM.
 *
 * Board glue only; everything protocol-related is the host-tested core:
 *   UART      USB CDC `Serial` (the host opens /dev/ttyACM*)
 *   clock     micros(), extended to 64 bits
 *   slots     internal flash (flash_store.cpp)
 *   power     modelled from the nano33ble profile (the board has no current sensor)
 *   marker    D2 high during each inference, for a meter's logic input (docs/power.md)
 *   runner    TensorFlow Lite Micro, CMSIS-NN kernels (runner/tflm, shared with the
 *             POSIX port)
 *   uid       the nRF52840's factory DEVICEID */
#include <Arduino.h>

extern "C" {
#include "fw_device.h"
#include "fw_version.h"
#include "model_power.h"
}
#include "flash_store.h"
#include "fw_tflm_runner.h"

namespace {

const uint16_t kMaxPayload = 1024;
const uint32_t kArenaBytes = 184320u; /* the nano33ble profile's arena */
const uint8_t kMarkerPin = D2;

alignas(16) uint8_t g_arena[kArenaBytes];
uint8_t g_rx[FW_RX_BUF_SIZE(kMaxPayload)];
uint8_t g_tx[FW_TX_BUF_SIZE(kMaxPayload)];
uint8_t g_uid[8];
model_power g_power = {3300, 2000, 6000}; /* 6.6 mW idle, 19.8 mW active at 3.3 V */
fw_hal g_hal;
fw_config g_cfg;
fw_device g_dev;

void uart_write(void *, const uint8_t *p, size_t n) { Serial.write(p, n); }

void marker_set(void *, int high) { digitalWrite(kMarkerPin, high ? HIGH : LOW); }

/* micros() wraps every 71 minutes; the protocol's clock is 64-bit and monotonic. */
uint64_t now_us(void *)
{
    static uint32_t last;
    static uint64_t high;
    uint32_t t = micros();
    if (t < last)
        high += 1ull << 32;
    last = t;
    return high | t;
}

uint8_t boot_reason()
{
    uint32_t r = NRF_POWER->RESETREAS;
    NRF_POWER->RESETREAS = r; /* the register keeps bits until written back */
    if (r & POWER_RESETREAS_SREQ_Msk)
        return FW_BOOT_REQUESTED;
    if (r & POWER_RESETREAS_DOG_Msk)
        return FW_BOOT_WATCHDOG;
    if (r & POWER_RESETREAS_LOCKUP_Msk)
        return FW_BOOT_FAULT;
    return FW_BOOT_POWER_ON;
}

} // namespace

void setup()
{
    Serial.begin(115200); /* USB CDC: the rate is nominal */
    uint32_t id0 = NRF_FICR->DEVICEID[0], id1 = NRF_FICR->DEVICEID[1];
    for (int i = 0; i < 4; i++) {
        g_uid[i] = (uint8_t)(id0 >> (8 * i));
        g_uid[4 + i] = (uint8_t)(id1 >> (8 * i));
    }
    /* No encoded uploads (encodings 0): flash_store programs whole words per write, and the
     * decoder's one-byte runs would program a word more often than the nRF52840 allows. */
    g_cfg = {g_uid, sizeof g_uid, "nano33ble", FLEET_FW_VERSION, 64000000u, kMaxPayload, 4096, 10000, 10, 0};
    g_hal.uart.write = uart_write;
    g_hal.clock.now_us = now_us;
    g_hal.store = flash_store_open();
    g_hal.power = model_power_meter(&g_power);
    g_hal.runner = fw_tflm_runner_make(g_arena, kArenaBytes);
    pinMode(kMarkerPin, OUTPUT);
    digitalWrite(kMarkerPin, LOW);
    g_hal.marker.set = marker_set;
    fw_device_init(&g_dev, &g_cfg, &g_hal, g_rx, g_tx);
    fw_device_boot(&g_dev, boot_reason());
}

void loop()
{
    uint8_t buf[64];
    int n;
    while ((n = Serial.available()) > 0 && !fw_device_reboot_requested(&g_dev)) {
        n = Serial.readBytes(buf, n < (int)sizeof buf ? n : (int)sizeof buf);
        fw_device_input(&g_dev, buf, (size_t)n);
    }
    if (fw_device_reboot_requested(&g_dev)) {
        Serial.flush(); /* let the REBOOT response out first */
        NVIC_SystemReset();
    }
    fw_device_poll(&g_dev);
}
