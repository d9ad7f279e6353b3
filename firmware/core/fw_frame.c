#include "fw_frame.h"

#include "fw_crc32.h"
#include "fw_wire.h"

fw_frame_status fw_frame_decode(uint8_t *buf, size_t n, size_t max_payload, fw_frame *out)
{
    if (n > FW_RX_BUF_SIZE(max_payload))
        return FW_FRAME_TOO_LONG;
    long body = fw_cobs_decode(buf, n);
    if (body < (long)FW_OVERHEAD)
        return FW_FRAME_MALFORMED;
    size_t plen = (size_t)body - FW_OVERHEAD;
    if (fw_crc32(0, buf, (size_t)body - FW_CRC_SIZE) != fw_rd32(buf + body - FW_CRC_SIZE))
        return FW_FRAME_BAD_CRC;
    out->version = buf[0];
    out->type = buf[1];
    out->flags = buf[2];
    out->seq = fw_rd16(buf + 4);
    out->length = fw_rd16(buf + 6);
    out->payload = buf + FW_HDR_SIZE;
    if (out->length != plen)
        return FW_FRAME_MALFORMED;
    if (plen > max_payload)
        return FW_FRAME_TOO_LONG;
    return FW_FRAME_OK;
}

void fw_rx_init(fw_rx *rx, uint8_t *buf, uint16_t max_payload)
{
    const fw_rx_stats zero = {0, 0, 0, 0};
    rx->buf = buf;
    rx->max_payload = max_payload;
    rx->len = 0;
    rx->skipping = 0;
    rx->stats = zero;
}

int fw_rx_byte(fw_rx *rx, uint8_t b, fw_frame *out)
{
    if (b != 0) {
        if (rx->skipping)
            return 0;
        if (rx->len >= FW_RX_BUF_SIZE(rx->max_payload)) {
            rx->stats.too_long++;
            rx->skipping = 1;
            rx->len = 0;
            return 0;
        }
        rx->buf[rx->len++] = b;
        return 0;
    }
    /* Delimiter. An empty candidate is idle line, not an error. */
    uint16_t n = rx->len;
    rx->len = 0;
    if (rx->skipping) {
        rx->skipping = 0;
        return 0;
    }
    if (n == 0)
        return 0;
    switch (fw_frame_decode(rx->buf, n, rx->max_payload, out)) {
    case FW_FRAME_OK:
        rx->stats.frames++;
        return 1;
    case FW_FRAME_BAD_CRC:
        rx->stats.bad_crc++;
        break;
    case FW_FRAME_TOO_LONG:
        rx->stats.too_long++;
        break;
    default:
        rx->stats.malformed++;
        break;
    }
    return 0;
}

void fw_frame_send(uint8_t *buf, uint8_t type, uint8_t flags, uint16_t seq, uint16_t len, fw_put_fn put, void *ctx)
{
    static const uint8_t delimiter = 0;
    fw_cur c = fw_cur_make(buf, FW_HDR_SIZE);
    fw_put_le(&c, FW_PROTOCOL_VERSION, 1);
    fw_put_le(&c, type, 1);
    fw_put_le(&c, flags, 1);
    fw_put_le(&c, 0, 1);
    fw_put_le(&c, seq, 2);
    fw_put_le(&c, len, 2);
    size_t body = FW_HDR_SIZE + (size_t)len;
    c = fw_cur_make(buf + body, FW_CRC_SIZE);
    fw_put_le(&c, fw_crc32(0, buf, body), 4);
    fw_cobs_encode(buf, body + FW_CRC_SIZE, put, ctx);
    put(ctx, &delimiter, 1);
}
