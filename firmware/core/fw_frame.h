/* Frames: COBS(header | payload | CRC-32) 0x00 (PROTOCOL.md sections 1-2). */
#ifndef FW_FRAME_H
#define FW_FRAME_H
#include <stddef.h>
#include <stdint.h>

#include "fw_cobs.h"

#define FW_PROTOCOL_VERSION 1u
#define FW_HDR_SIZE 8u
#define FW_CRC_SIZE 4u
#define FW_OVERHEAD (FW_HDR_SIZE + FW_CRC_SIZE)
/* Receive buffer for a given max payload: the longest COBS encoding of a frame. */
#define FW_RX_BUF_SIZE(max_payload) FW_COBS_MAX((max_payload) + FW_OVERHEAD)
/* Transmit buffer: the body is built in place, then COBS-streamed to the UART. */
#define FW_TX_BUF_SIZE(max_payload) ((max_payload) + FW_OVERHEAD)

enum {
    FW_FLAG_RESPONSE = 0x01,
    FW_FLAG_ERROR = 0x02,
};

enum {
    FW_T_HELLO = 0x01,
    FW_T_PING = 0x02,
    FW_T_STREAM_CONFIG = 0x03,
    FW_T_REBOOT = 0x04,
    FW_T_RUNTIME = 0x05,
    FW_T_MODEL_BEGIN = 0x10,
    FW_T_MODEL_CHUNK = 0x11,
    FW_T_MODEL_COMMIT = 0x12,
    FW_T_MODEL_ACTIVATE = 0x13,
    FW_T_MODEL_CONFIRM = 0x14,
    FW_T_MODEL_ROLLBACK = 0x15,
    FW_T_MODEL_STREAM = 0x16,
    FW_T_MODEL_DATA = 0x17,
    FW_T_INFER_RESULT = 0x20,
    FW_T_POWER = 0x21,
    FW_T_LOG = 0x22,
    FW_T_BOOT = 0x23,
};

typedef struct {
    uint8_t version;
    uint8_t type;
    uint8_t flags;
    uint16_t seq;
    uint16_t length;
    uint8_t *payload; /* points into the receive buffer */
} fw_frame;

/* Why a candidate frame was dropped; the receiver counts each kind. */
typedef enum {
    FW_FRAME_OK = 0,
    FW_FRAME_MALFORMED, /* not COBS, shorter than 12 bytes, or length field mismatch */
    FW_FRAME_BAD_CRC,
    FW_FRAME_TOO_LONG,
} fw_frame_status;

/* Decode one COBS frame (delimiter removed) in place, in the host decoder's order of
 * checks so both sides classify garbage the same way. */
fw_frame_status fw_frame_decode(uint8_t *buf, size_t n, size_t max_payload, fw_frame *out);

typedef struct {
    uint32_t frames, malformed, bad_crc, too_long;
} fw_rx_stats;

/* Streaming receiver over a caller-owned buffer of FW_RX_BUF_SIZE(max_payload) bytes. */
typedef struct {
    uint8_t *buf;
    uint16_t max_payload;
    uint16_t len;
    uint8_t skipping; /* dropped an over-long candidate; wait for the next 0x00 */
    fw_rx_stats stats;
} fw_rx;

void fw_rx_init(fw_rx *rx, uint8_t *buf, uint16_t max_payload);
/* Feed one byte. Returns 1 when it completes a valid frame (valid until the next call). */
int fw_rx_byte(fw_rx *rx, uint8_t b, fw_frame *out);

/* Send the frame whose payload the caller wrote at buf[FW_HDR_SIZE..+len): fills in
 * the header and CRC around it and streams the COBS encoding plus delimiter to put. */
void fw_frame_send(uint8_t *buf, uint8_t type, uint8_t flags, uint16_t seq, uint16_t len, fw_put_fn put, void *ctx);

#endif
