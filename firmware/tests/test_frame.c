/* The streaming frame receiver: good frames, each kind of drop, resynchronisation. */
#include <string.h>

#include "check.h"
#include "test_hal.h"
#include "fw_frame.h"

static void frame(byte_sink *s, uint16_t seq, const char *payload, size_t n)
{
    uint8_t body[FW_TX_BUF_SIZE(1024)];
    memcpy(body + FW_HDR_SIZE, payload, n);
    fw_frame_send(body, 0x02, 0, seq, (uint16_t)n, byte_sink_put, s);
}

static int feed(fw_rx *rx, const uint8_t *p, size_t n, fw_frame *last)
{
    int frames = 0;
    for (size_t i = 0; i < n; i++)
        frames += fw_rx_byte(rx, p[i], last);
    return frames;
}

int main(void)
{
    static uint8_t buf[FW_RX_BUF_SIZE(512)];
    fw_rx rx;
    fw_frame f;
    byte_sink s = {{0}, 0};
    fw_rx_init(&rx, buf, 512);

    frame(&s, 7, "abc", 3);
    CHECK_EQ(s.buf[s.len - 1], 0);
    CHECK_EQ(feed(&rx, s.buf, s.len, &f), 1);
    CHECK_EQ(f.seq, 7);
    CHECK_EQ(f.type, 2);
    CHECK_EQ(f.length, 3);
    CHECK(memcmp(f.payload, "abc", 3) == 0);

    /* Idle delimiters are not errors. */
    const uint8_t idle[] = {0, 0, 0};
    CHECK_EQ(feed(&rx, idle, 3, &f), 0);
    CHECK_EQ(rx.stats.malformed + rx.stats.bad_crc + rx.stats.too_long, 0);

    /* A flipped bit fails the CRC; the next frame still arrives. */
    s.len = 0;
    frame(&s, 8, "hello", 5);
    ((uint8_t *)memchr(s.buf, 'o', s.len))[0] ^= 0x10; /* inside a COBS run: still valid COBS */
    frame(&s, 9, "hello", 5);
    CHECK_EQ(feed(&rx, s.buf, s.len, &f), 1);
    CHECK_EQ(rx.stats.bad_crc, 1);
    CHECK_EQ(f.seq, 9);

    /* Garbage without a delimiter beyond the buffer is dropped as too long. */
    static uint8_t junk[FW_RX_BUF_SIZE(512) + 100];
    memset(junk, 0x55, sizeof junk);
    CHECK_EQ(feed(&rx, junk, sizeof junk, &f), 0);
    CHECK_EQ(rx.stats.too_long, 1);
    s.len = 0;
    frame(&s, 10, "x", 1);
    CHECK_EQ(feed(&rx, s.buf, s.len, &f), 0); /* its delimiter only ends the skip */
    CHECK_EQ(rx.stats.frames, 2);
    CHECK_EQ(feed(&rx, s.buf, s.len, &f), 1);
    CHECK_EQ(f.seq, 10);

    /* The largest payload passes; one more byte is too long. */
    static char big[513];
    memset(big, 'b', sizeof big);
    s.len = 0;
    frame(&s, 11, big, 512);
    CHECK_EQ(feed(&rx, s.buf, s.len, &f), 1);
    CHECK_EQ(f.length, 512);
    s.len = 0;
    frame(&s, 12, big, 513);
    CHECK_EQ(feed(&rx, s.buf, s.len, &f), 0);
    CHECK_EQ(rx.stats.too_long, 2);

    /* Too short to hold a header and CRC. */
    const uint8_t tiny[] = {0x03, 0x01, 0x02, 0x00};
    CHECK_EQ(feed(&rx, tiny, sizeof tiny, &f), 0);
    CHECK_EQ(rx.stats.malformed, 1);
    return check_done("frame");
}
