#include "fw_sha256.h"

#include <string.h>

static const uint32_t k_round[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

static uint32_t ror(uint32_t x, unsigned n) { return (x >> n) | (x << (32u - n)); }

/* One 64-byte block. The message schedule is kept as a rolling 16-word window so the
 * whole hash needs ~100 bytes of stack on a microcontroller. */
static void compress(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[16];
    uint32_t v[8];
    for (unsigned i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    memcpy(v, h, sizeof v);
    for (unsigned i = 0; i < 64; i++) {
        if (i >= 16) {
            uint32_t w15 = w[(i + 1) & 15], w2 = w[(i + 14) & 15];
            uint32_t s0 = ror(w15, 7) ^ ror(w15, 18) ^ (w15 >> 3);
            uint32_t s1 = ror(w2, 17) ^ ror(w2, 19) ^ (w2 >> 10);
            w[i & 15] += s0 + s1 + w[(i + 9) & 15];
        }
        uint32_t e = v[4], a = v[0];
        uint32_t t1 = v[7] + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & v[5]) ^ (~e & v[6])) + k_round[i] + w[i & 15];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));
        memmove(v + 1, v, 7 * sizeof v[0]); /* h <- g <- ... <- a */
        v[4] += t1;
        v[0] = t1 + t2;
    }
    for (unsigned i = 0; i < 8; i++)
        h[i] += v[i];
}

void fw_sha256_init(fw_sha256 *s)
{
    static const uint32_t h0[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                   0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    memcpy(s->h, h0, sizeof h0);
    s->len = 0;
}

void fw_sha256_update(fw_sha256 *s, const uint8_t *p, size_t n)
{
    while (n) {
        size_t used = (size_t)(s->len & 63u);
        size_t take = 64u - used < n ? 64u - used : n;
        memcpy(s->block + used, p, take);
        s->len += take;
        p += take;
        n -= take;
        if (used + take == 64u)
            compress(s->h, s->block);
    }
}

void fw_sha256_final(fw_sha256 *s, uint8_t out[32])
{
    uint64_t bits = s->len * 8u;
    size_t used = (size_t)(s->len & 63u);
    s->block[used++] = 0x80;
    if (used > 56u) {
        memset(s->block + used, 0, 64u - used);
        compress(s->h, s->block);
        used = 0;
    }
    memset(s->block + used, 0, 56u - used);
    for (unsigned i = 0; i < 8; i++)
        s->block[56 + i] = (uint8_t)(bits >> (56u - 8u * i));
    compress(s->h, s->block);
    for (unsigned i = 0; i < 32; i++)
        out[i] = (uint8_t)(s->h[i / 4] >> (24u - 8u * (i % 4)));
}
