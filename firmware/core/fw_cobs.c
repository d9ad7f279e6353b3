#include "fw_cobs.h"

size_t fw_cobs_encode(const uint8_t *src, size_t n, fw_put_fn put, void *ctx)
{
    size_t total = 0;
    size_t i = 0;
    /* Each block is a code byte (run length + 1) and a run of non-zero bytes. A run that
     * ends at a zero consumes it; a full 254-byte run does not, and an input that ends
     * with a zero still needs a final empty block for it. */
    for (;;) {
        size_t run = 0;
        while (i + run < n && run < 254u && src[i + run] != 0)
            run++;
        uint8_t code = (uint8_t)(run + 1u);
        put(ctx, &code, 1);
        if (run)
            put(ctx, src + i, run);
        total += run + 1u;
        i += run;
        if (i >= n) {
            break;
        }
        if (run < 254u) {
            i++; /* the zero this block stands for */
            if (i == n) {
                code = 1; /* trailing zero: an empty final block */
                put(ctx, &code, 1);
                total++;
                break;
            }
        }
    }
    return total;
}

long fw_cobs_decode(uint8_t *buf, size_t n)
{
    size_t in = 0, out = 0;
    while (in < n) {
        uint8_t code = buf[in++];
        if (code == 0)
            return -1;
        size_t run = (size_t)code - 1u;
        if (run > n - in)
            return -1;
        for (size_t k = 0; k < run; k++) {
            uint8_t b = buf[in++];
            if (b == 0)
                return -1;
            buf[out++] = b;
        }
        if (in < n && code != 0xFF)
            buf[out++] = 0;
    }
    return (long)out;
}
