/* COBS against vectors from the Python `cobs` package the host uses, and round trips. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_hal.h"
#include "fw_cobs.h"

static size_t encode(const uint8_t *src, size_t n, byte_sink *s)
{
    s->len = 0;
    size_t r = fw_cobs_encode(src, n, byte_sink_put, s);
    CHECK_EQ(r, s->len);
    CHECK(s->len <= FW_COBS_MAX(n) + 1); /* +1: a trailing zero's empty block */
    return r;
}

static void vector(const char *raw, size_t n, const char *enc, size_t m)
{
    byte_sink s;
    encode((const uint8_t *)raw, n, &s);
    CHECK_EQ(s.len, m);
    CHECK(memcmp(s.buf, enc, m) == 0);
    CHECK_EQ(fw_cobs_decode(s.buf, s.len), (long)n);
    CHECK(memcmp(s.buf, raw, n) == 0);
}

int main(void)
{
    vector("", 0, "\x01", 1);
    vector("\x00", 1, "\x01\x01", 2);
    vector("\x00\x00", 2, "\x01\x01\x01", 3);
    vector("\x11\x22\x00\x33", 4, "\x03\x11\x22\x02\x33", 5);
    vector("\x11\x00\x00\x00", 4, "\x02\x11\x01\x01\x01", 5);

    /* 254 non-zero bytes: one full block, no trailing block (as the host encodes). */
    uint8_t run[256];
    byte_sink s;
    for (int i = 0; i < 255; i++)
        run[i] = (uint8_t)(i + 1);
    CHECK_EQ(encode(run, 254, &s), 255);
    CHECK_EQ(s.buf[0], 0xFF);
    CHECK_EQ(encode(run, 255, &s), 257);
    CHECK_EQ(s.buf[255], 0x02);

    /* Invalid encodings. */
    uint8_t bad1[] = {0x05, 0x01, 0x02};
    uint8_t bad2[] = {0x02, 0x00};
    uint8_t bad3[] = {0x00};
    CHECK_EQ(fw_cobs_decode(bad1, 3), -1);
    CHECK_EQ(fw_cobs_decode(bad2, 2), -1);
    CHECK_EQ(fw_cobs_decode(bad3, 1), -1);

    /* Random round trips, zero-heavy and zero-free. */
    srand(1);
    for (int t = 0; t < 2000; t++) {
        uint8_t raw[520], copy[520];
        size_t n = (size_t)rand() % 520;
        for (size_t i = 0; i < n; i++)
            raw[i] = (uint8_t)(t & 1 ? rand() % 3 : rand() % 255 + 1);
        memcpy(copy, raw, n);
        encode(raw, n, &s);
        CHECK(memchr(s.buf, 0, s.len) == NULL);
        CHECK_EQ(fw_cobs_decode(s.buf, s.len), (long)n);
        CHECK(memcmp(s.buf, copy, n) == 0);
    }
    return check_done("cobs");
}
