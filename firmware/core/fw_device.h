/* The board: feeds received bytes to the frame receiver, dispatches requests to the
 * slot state machine and the stream scheduler, and frames responses and events.
 * Everything is in caller-owned memory; a port allocates one fw_device statically. */
#ifndef FW_DEVICE_H
#define FW_DEVICE_H
#include "fw_frame.h"
#include "fw_hal.h"
#include "fw_slots.h"
#include "fw_streams.h"

/* What a port declares about itself in INFO. */
typedef struct {
    const uint8_t *uid;
    uint8_t uid_len;
    const char *board_kind;
    const char *firmware_version;
    uint32_t cpu_hz;
    uint16_t max_payload;        /* receive and transmit; sizes the two buffers */
    uint32_t rx_window;          /* chunk bytes the port can buffer unacknowledged */
    uint32_t infer_period_us;    /* how often a running model is invoked */
    uint16_t min_power_interval_ms;
    /* Encoded uploads the port offers: FW_CAP_DEFLATE, with FW_CAP_DELTA for COPY blocks (0:
     * plain chunks only). The decoder writes runs as short as one byte and reads them back at
     * once through map(), so a store that programs flash words per write cannot offer them. */
    uint32_t encodings;
} fw_config;

typedef struct fw_device {
    const fw_config *cfg;
    const fw_hal *hal;
    fw_rx rx;
    uint8_t *tx;           /* FW_TX_BUF_SIZE(cfg->max_payload) bytes */
    uint16_t host_max;     /* largest payload the host accepts (HELLO) */
    uint16_t event_seq;
    uint8_t reboot_requested;
    fw_slots slots;
    fw_streams streams;
} fw_device;

/* rx_buf holds FW_RX_BUF_SIZE(cfg->max_payload) bytes, tx_buf FW_TX_BUF_SIZE(...). */
void fw_device_init(fw_device *d, const fw_config *cfg, const fw_hal *hal, uint8_t *rx_buf, uint8_t *tx_buf);
/* Load the slots, start the ACTIVE model and send the BOOT event. */
void fw_device_boot(fw_device *d, uint8_t reason);
/* Bytes from the UART. */
void fw_device_input(fw_device *d, const uint8_t *p, size_t n);
/* Run what is due (inference, streams); returns microseconds until the next work. */
uint32_t fw_device_poll(fw_device *d);
/* After a REBOOT request was answered, the port resets the board (RAM state is lost)
 * and boots again with FW_BOOT_REQUESTED. */
static inline int fw_device_reboot_requested(const fw_device *d) { return d->reboot_requested; }

/* A LOG event, if the LOG stream is on and `level` passes its filter. */
static inline void fw_device_log(fw_device *d, uint8_t level, const char *text) { fw_streams_log(&d->streams, level, text); }

#endif
