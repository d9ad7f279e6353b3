/* The decoder against zlib's inflate, the reference PROTOCOL.md 10.2 names for what deflate
 * data is valid: thousands of deflate streams (every level and strategy, matches into the
 * slot below the block) and bit-flipped, cut and extended copies of them. For each, a DEFLATE
 * block must decode exactly when zlib inflates the data to its end, using every byte, and
 * then to the same bytes. Deterministic: a fixed seed. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "fw_inflate.h"

#define SLOT_BYTES 8192u
#define MAX_OUT 3000u
#define PREFIX_MAX 2000u

static uint8_t g_slot[SLOT_BYTES];
static const fw_inflate *g_z;
static int g_stray;

static int st_write(void *ctx, uint8_t slot, uint32_t off, const uint8_t *p, uint32_t n)
{
    (void)ctx;
    if (slot != 0 || off < g_z->received || off > g_z->size || n > g_z->size - off)
        g_stray++;
    else
        memcpy(g_slot + off, p, n);
    return 0;
}

static const uint8_t *st_map(void *ctx, uint8_t slot)
{
    (void)ctx;
    (void)slot;
    return g_slot;
}

static uint32_t g_rng = 0x9E3779B9u;
static uint32_t rnd(uint32_t n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return g_rng % n;
}

/* Data with repeats (matches near and far) and noise. */
static void make_data(uint8_t *p, uint32_t n)
{
    uint32_t alphabet = 2 + rnd(255);
    for (uint32_t i = 0; i < n; i++) {
        if (i > 8 && rnd(4) == 0) {
            uint32_t d = 1 + rnd(i < 300 ? i : 300), len = 3 + rnd(40);
            for (; len-- && i < n; i++)
                p[i] = p[i - d];
            i--;
        } else {
            p[i] = (uint8_t)rnd(alphabet);
        }
    }
}

static uLong deflate_raw(const uint8_t *dict, uint32_t dict_len, const uint8_t *in, uint32_t n, uint8_t *out, uLong cap)
{
    static const int strategies[] = {Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED};
    z_stream s;
    memset(&s, 0, sizeof s);
    CHECK_EQ(deflateInit2(&s, (int)rnd(10), Z_DEFLATED, -15, 8, strategies[rnd(5)]), Z_OK);
    if (dict_len)
        deflateSetDictionary(&s, dict, dict_len);
    s.next_in = (Bytef *)(uintptr_t)in;
    s.avail_in = n;
    s.next_out = out;
    s.avail_out = (uInt)cap;
    CHECK_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
    uLong len = s.total_out;
    deflateEnd(&s);
    return len;
}

/* zlib's verdict: the inflated length if the data is one complete deflate stream using
 * every byte, else -1. */
static long inflate_raw(const uint8_t *dict, uint32_t dict_len, const uint8_t *in, uint32_t n, uint8_t *out, uint32_t cap)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    CHECK_EQ(inflateInit2(&s, -15), Z_OK);
    if (dict_len)
        inflateSetDictionary(&s, dict, dict_len);
    s.next_in = (Bytef *)(uintptr_t)in;
    s.avail_in = n;
    s.next_out = out;
    s.avail_out = cap;
    int r = inflate(&s, Z_FINISH);
    long len = r == Z_STREAM_END && s.avail_in == 0 ? (long)s.total_out : -1;
    inflateEnd(&s);
    return len;
}

static int g_accepted, g_refused;

/* Decode `packed` as one DEFLATE block over a slot holding `prefix`, and compare with zlib.
 * `n` is the out_len the block claims when zlib refuses the data. */
static void compare(const char *name, const uint8_t *prefix, uint32_t plen, const uint8_t *packed, uint32_t m, uint32_t n)
{
    static uint8_t expect[65536], stream[8192];
    static fw_inflate z;
    static const fw_store store = {NULL, SLOT_BYTES, NULL, NULL, NULL, st_write, st_map};
    /* zlib sees the slot below the block, as the decoder does (all of it: < 32 KiB). */
    long out = inflate_raw(prefix, plen, packed, m, expect, sizeof expect);
    if (out == 0 || out > 65535 || plen + (uint32_t)(out < 0 ? n : out) > SLOT_BYTES || m + 5 > sizeof stream)
        return; /* no DEFLATE block can say that out_len */
    uint32_t out_len = out < 0 ? n : (uint32_t)out;
    stream[0] = 1;
    stream[1] = (uint8_t)out_len;
    stream[2] = (uint8_t)(out_len >> 8);
    stream[3] = (uint8_t)m;
    stream[4] = (uint8_t)(m >> 8);
    memcpy(stream + 5, packed, m);
    memset(g_slot, 0xFF, sizeof g_slot);
    memcpy(g_slot, prefix, plen);
    g_z = &z;
    fw_inflate_open(&z, &store, 0, plen, plen + out_len, FW_NO_SLOT, 0);
    fw_err e = FW_OK;
    uint32_t len = m + 5, piece = 1 + rnd(64);
    for (uint32_t at = 0; at < len && e == FW_OK; at += piece)
        e = fw_inflate_feed(&z, stream + at, len - at < piece ? len - at : piece);
    int ok = e == FW_OK && z.received == plen + out_len;
    if (ok != (out >= 0))
        fprintf(stderr, "%s: zlib %ld, decoder %d (%s), %u deflate bytes\n", name, out, e, z.why ? z.why : "", m);
    CHECK_EQ(ok, out >= 0);
    CHECK_EQ(g_stray, 0);
    if (ok && out >= 0) {
        CHECK(memcmp(g_slot + plen, expect, out_len) == 0);
        CHECK(memcmp(g_slot, prefix, plen) == 0);
    }
    g_accepted += ok;
    g_refused += !ok;
}

/* --- hand-made deflate data for the rules random data rarely reaches ---------------------- */

static uint8_t g_bits[256];
static uint32_t g_nbits;

static void put_bits(uint32_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++, g_nbits++)
        if (v >> i & 1u)
            g_bits[g_nbits >> 3] |= (uint8_t)(1u << (g_nbits & 7));
}

/* A Huffman code, MSB first, from canonical code lengths (RFC 1951 3.2.2). */
static void put_sym(const uint8_t *lens, unsigned n, unsigned sym)
{
    unsigned count[16] = {0}, next[16], code = 0;
    for (unsigned s = 0; s < n; s++)
        count[lens[s]]++;
    count[0] = 0;
    for (unsigned b = 1; b < 16; b++)
        next[b] = code = (code + count[b - 1]) << 1;
    for (unsigned s = 0; s < sym; s++)
        if (lens[s] == lens[sym])
            next[lens[sym]]++;
    for (unsigned i = lens[sym]; i--;)
        put_bits(next[lens[sym]] >> i & 1u, 1);
}

/* A dynamic block header: code lengths sent as plain symbols 0..15; `broken` 16: a repeat
 * before them, 17: three zeros for the distance lengths instead of them. The code-length
 * code: 13 symbols of 4 bits, 6 of 5 (complete). */
static uint8_t g_clen[19];
static void dynamic(int last, const uint8_t *lit, unsigned nlit, const uint8_t *dist, unsigned ndist, unsigned broken)
{
    static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    for (unsigned s = 0; s < 19; s++)
        g_clen[s] = s < 13 ? 4 : 5;
    put_bits((unsigned)last, 1);
    put_bits(2, 2);
    put_bits(nlit - 257, 5);
    put_bits(ndist - 1, 5);
    put_bits(15, 4);
    for (unsigned i = 0; i < 19; i++)
        put_bits(g_clen[order[i]], 3);
    if (broken == 16) {
        put_sym(g_clen, 19, 16);
        put_bits(0, 2);
    }
    for (unsigned s = 0; s < nlit; s++)
        put_sym(g_clen, 19, lit[s]);
    if (broken == 17) {
        put_sym(g_clen, 19, 17);
        put_bits(0, 3);
        return;
    }
    for (unsigned s = 0; s < ndist; s++)
        put_sym(g_clen, 19, dist[s]);
}

static void begin_bits(void)
{
    memset(g_bits, 0, sizeof g_bits);
    g_nbits = 0;
}

static void handmade(void)
{
    static uint8_t lit[288], dist[32];
    uint8_t fixed[288];
    for (unsigned s = 0; s < 288; s++)
        fixed[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
    uint8_t fixed_dist[32];
    memset(fixed_dist, 5, sizeof fixed_dist);

    /* Fixed block: 'a', then literal/length symbol 286 (or 287), or distance symbol 30 (31). */
    for (unsigned bad = 286; bad <= 289; bad++) {
        begin_bits();
        put_bits(1, 1);
        put_bits(1, 2);
        put_sym(fixed, 288, 'a');
        if (bad < 288) {
            put_sym(fixed, 288, bad);
        } else {
            put_sym(fixed, 288, 257);
            put_sym(fixed_dist, 32, bad - 288 + 30);
        }
        put_sym(fixed, 288, 256);
        compare("fixed, symbol 286..287 or distance 30..31", g_bits, 0, g_bits, (g_nbits + 7) / 8, 1);
    }

    /* `n`: the out_len of the block, what a decoder blind to the broken rule would write. */
    struct {
        const char *name;
        unsigned nlit, ndist, broken;
        uint8_t a, eob, l257, d0; /* lengths of 'a', 256, 257 and of distance 0 */
        uint32_t n;
    } cases[] = {
        {"complete codes", 258, 1, 0, 1, 2, 2, 1, 4}, /* a single distance code of length 1 */
        {"no distance code", 258, 1, 0, 1, 2, 2, 0, 1}, /* literals only */
        {"incomplete literal code", 258, 1, 0, 2, 2, 0, 1, 1},
        {"over-subscribed literal code", 258, 1, 0, 1, 1, 1, 1, 4},
        {"HLIT 287", 287, 1, 0, 1, 2, 2, 1, 4},
        {"HDIST 31", 258, 31, 0, 1, 2, 2, 1, 4},
        {"repeat with nothing to repeat", 258, 1, 16, 1, 2, 2, 1, 4},
        {"zeros running past HLIT + HDIST", 258, 2, 17, 1, 2, 2, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(lit, 0, sizeof lit);
        memset(dist, 0, sizeof dist);
        lit['a'] = cases[i].a;
        lit[256] = cases[i].eob;
        lit[257] = cases[i].l257;
        dist[0] = cases[i].d0;
        begin_bits();
        dynamic(1, lit, cases[i].nlit, dist, cases[i].ndist, cases[i].broken);
        put_sym(lit, 288, 'a');
        if (cases[i].l257 && cases[i].d0) {
            put_sym(lit, 288, 257); /* length 3, distance 1 */
            put_sym(dist, 30, 0);
        }
        put_sym(lit, 288, 256);
        compare(cases[i].name, g_bits, 0, g_bits, (g_nbits + 7) / 8, cases[i].n);
    }

    /* A literal/length code of one code (end-of-block) of length 1, after a fixed block. */
    memset(lit, 0, sizeof lit);
    memset(dist, 0, sizeof dist);
    lit[256] = 1;
    begin_bits();
    put_bits(0, 1);
    put_bits(1, 2);
    put_sym(fixed, 288, 'x');
    put_sym(fixed, 288, 256);
    dynamic(1, lit, 257, dist, 1, 0);
    put_sym(lit, 288, 256);
    compare("single literal/length code", g_bits, 0, g_bits, (g_nbits + 7) / 8, 1);
}

int main(void)
{
    static uint8_t prefix[PREFIX_MAX], data[MAX_OUT], packed[2 * MAX_OUT + 64];
    int cases = 6000;
    handmade();
    CHECK_EQ(g_accepted, 3);
    CHECK_EQ(g_refused, 10);
    for (int c = 0; c < cases; c++) {
        uint32_t plen = rnd(4) ? rnd(PREFIX_MAX) : 0, n = 1 + rnd(MAX_OUT);
        make_data(prefix, plen);
        make_data(data, n);
        uint32_t dict = rnd(3) ? plen : 0; /* no dictionary: distances stay inside the block */
        uLong m = deflate_raw(prefix + plen - dict, dict, data, n, packed, sizeof packed - 8);
        switch (c % 3) { /* mutate two of three */
        case 1:
            for (uint32_t k = 1 + rnd(3); k--;)
                packed[rnd((uint32_t)m)] ^= (uint8_t)(1u << rnd(8));
            break;
        case 2:
            if (rnd(2) && m > 1)
                m -= 1 + rnd((uint32_t)m - 1);
            else
                for (uint32_t k = 1 + rnd(3); k--;)
                    packed[m++] = (uint8_t)rnd(256);
            break;
        }
        compare("random", prefix, plen, packed, (uint32_t)m, n);
    }
    CHECK(g_accepted > cases / 3);
    CHECK(g_refused > cases / 4);
    printf("inflate/zlib   %d deflate streams accepted, %d refused, as zlib does\n", g_accepted, g_refused);
    return check_done("inflate_zlib");
}
