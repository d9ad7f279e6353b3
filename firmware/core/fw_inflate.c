#include "fw_inflate.h"

#include <string.h>

enum { ST_HEAD, ST_DEFLATE };
enum { M_BLOCK, M_STORED_LEN, M_STORED, M_DYN, M_CLEN, M_LENS, M_CODES };
/* Step results: go on, wait for input, deflate data ended, deflate data broken (E_DATA), a
 * rule broken (`why` set), storage failed. */
enum { R_OK, R_SUSPEND, R_DONE, R_DATA, R_BAD, R_STORE };
enum { KIND_DEFLATE = 1, KIND_COPY = 2 };

/* Reasons shared by several rules (the error's detail, the block's offset, is what a host acts on). */
static const char E_OUT_LEN[] = "deflate != out_len";
static const char E_IN_LEN[] = "deflate != in_len";
static const char E_DATA[] = "bad deflate data";
static const char E_RANGE[] = "block out of range";

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int r_ = (x);                                                                              \
        if (r_)                                                                                    \
            return r_;                                                                             \
    } while (0)

static const uint8_t k_clen_order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

/* A rule broken; with the deflate data exhausted the values were no data: say so. */
static int bad(fw_inflate *z, const char *why)
{
    z->why = z->starved ? E_IN_LEN : why;
    return R_BAD;
}

static unsigned nib(const uint8_t *lens, unsigned i) { return (lens[i >> 1] >> ((i & 1u) << 2)) & 15u; }

static void set_nib(uint8_t *lens, unsigned i, unsigned v)
{
    unsigned shift = (i & 1u) << 2;
    lens[i >> 1] = (uint8_t)((lens[i >> 1] & ~(15u << shift)) | v << shift);
}

/* --- output: the slot ---------------------------------------------------------------- */

static int write_at(fw_inflate *z, uint32_t at, const uint8_t *src, uint32_t n)
{
    return z->store->write(z->store->ctx, z->slot, at, src, n) != 0 ? R_STORE : R_OK;
}

/* n bytes from src at pos (the caller checked they fit the block). */
static int put(fw_inflate *z, const uint8_t *src, uint32_t n)
{
    TRY(write_at(z, z->pos, src, n));
    z->pos += n;
    return R_OK;
}

static int literal(fw_inflate *z, uint32_t b)
{
    uint8_t byte = (uint8_t)b;
    return z->pos == z->end ? bad(z, E_OUT_LEN) : put(z, &byte, 1);
}

/* A back-reference copies from the slot itself, in runs that never overlap what they write:
 * the first is `dist` long, each next one twice what is written so far (the period holds). */
static int match(fw_inflate *z, uint32_t len, uint32_t dist)
{
    if (len > z->end - z->pos)
        return bad(z, E_OUT_LEN);
    if (dist > z->pos)
        return R_DATA; /* a distance reaching below model offset 0 */
    uint32_t src = z->pos - dist;
    while (len) {
        uint32_t n = z->pos - src < len ? z->pos - src : len;
        TRY(put(z, z->out + src, n));
        len -= n;
    }
    return R_OK;
}

/* --- input: the bit buffer ------------------------------------------------------------- */

static void fill(fw_inflate *z)
{
    while (z->nbits <= 56 && z->avail && z->in_left) {
        z->bits |= (uint64_t)*z->in++ << z->nbits;
        z->nbits += 8;
        z->avail--;
        z->in_left--;
    }
}

/* 1 when `n` bits are buffered or no more will come (then reading past them fails);
 * 0: suspend until the next feed. */
static int ready(fw_inflate *z, unsigned n)
{
    fill(z);
    return z->nbits >= n || !z->in_left;
}

/* n bits; past the block's deflate data it returns 0 and sets `starved`. */
static uint32_t get(fw_inflate *z, unsigned n)
{
    if (z->nbits < n) {
        z->starved = 1;
        return 0;
    }
    uint32_t v = (uint32_t)(z->bits & ((1u << n) - 1u));
    z->bits >>= n;
    z->nbits -= n;
    return v;
}

/* --- Huffman codes: lengths as nibbles, counts per length, canonical decoding ---------- */

/* Count the codes of each length; 0 when the code is usable: complete, or `partial` and (as
 * RFC 1951 allows and zlib accepts) a single code of length 1 or no code at all (a block of
 * literals only; the literal/length code always has end-of-block). */
static int build(const uint8_t *lens, uint16_t *count, unsigned n, int partial)
{
    memset(count, 0, 16 * sizeof *count);
    for (unsigned s = 0; s < n; s++)
        count[nib(lens, s)]++;
    int left = 1;
    for (unsigned len = 1; len < 16; len++) {
        left = (left << 1) - count[len];
        if (left < 0)
            return -1;
    }
    return left && !(partial && count[0] + count[1] == n && count[1] < 2);
}

/* The next symbol, or -1 when the bits are no code. Codes of one length are consecutive
 * and ordered by symbol, so the symbol is found by counting lengths (no table in RAM). */
static int decode(fw_inflate *z, const uint8_t *lens, const uint16_t *count, unsigned n)
{
    int code = 0, first = 0;
    for (unsigned len = 1; len < 16; len++) {
        if (!z->nbits) { /* past the block's deflate data */
            z->starved = 1;
            return -1;
        }
        code |= (int)(z->bits & 1u);
        z->bits >>= 1;
        z->nbits--;
        int c = count[len];
        if (code - c < first) {
            int index = code - first;
            for (unsigned s = 0; s < n; s++)
                if (nib(lens, s) == len && index-- == 0)
                    return (int)s;
            return -1;
        }
        first = (first + c) << 1;
        code <<= 1;
    }
    return -1;
}

#define DIST_LENS(z) ((z)->lens + FW_INFLATE_LIT / 2)

static void fixed_codes(fw_inflate *z)
{
    /* Runs of nibble pairs: lengths 8 (0..143), 9 (144..255), 7 (256..279), 8 (280..287);
     * distances 5. */
    static const uint8_t k_fixed[] = {72, 0x88, 56, 0x99, 12, 0x77, 4, 0x88, FW_INFLATE_DIST / 2, 0x55};
    uint8_t *p = z->lens;
    for (unsigned i = 0; i < sizeof k_fixed; i += 2, p += k_fixed[i - 2])
        memset(p, k_fixed[i + 1], k_fixed[i]);
    build(z->lens, z->lcount, FW_INFLATE_LIT, 0);
    build(DIST_LENS(z), z->dcount, FW_INFLATE_DIST, 0); /* 30 of 32 codes: 30 and 31 are no symbol */
}

/* Code length number i of a dynamic header: literal/length lengths, then distance ones. */
static unsigned len_slot(const fw_inflate *z, unsigned i) { return i < z->nlen ? i : FW_INFLATE_LIT + i - z->nlen; }

/* --- one deflate stream, one step (a symbol, a code length, a stored byte) at a time ---- */

/* Bits a step may read: what must be buffered before it runs unless the data ends first. */
static const uint8_t k_need[] = {3, 32, 8, 14, 3, 14, 48};

/* End of a deflate block: the next one, or the end of the deflate data. */
static int block_end(fw_inflate *z)
{
    z->mode = M_BLOCK;
    return z->last ? R_DONE : R_OK;
}

static int code_lengths(fw_inflate *z)
{
    unsigned total = z->nlen + z->ndist;
    if (z->idx < total) {
        int sym = decode(z, z->clens, z->dcount, 19);
        unsigned value = (unsigned)sym, repeat = 1;
        if (sym >= 16) { /* 16: the previous length 3..6 times; 17, 18: zeros 3..10, 11..138 times */
            if (sym == 16 && z->idx == 0)
                return R_DATA;
            value = sym == 16 ? z->prev : 0;
            sym -= 16;
            repeat = (sym == 2 ? 11 : 3) + get(z, sym == 2 ? 7 : 2u + (unsigned)sym);
        }
        if (sym < 0 || repeat > total - z->idx)
            return R_DATA;
        while (repeat--)
            set_nib(z->lens, len_slot(z, z->idx++), value);
        z->prev = value;
        return R_OK;
    }
    if (nib(z->lens, 256) == 0 || /* no end-of-block code */
        build(z->lens, z->lcount, FW_INFLATE_LIT, 1) || build(DIST_LENS(z), z->dcount, FW_INFLATE_DIST, 1))
        return R_DATA;
    z->mode = M_CODES;
    return R_OK;
}

static int symbol(fw_inflate *z)
{
    int sym = decode(z, z->lens, z->lcount, FW_INFLATE_LIT);
    if (sym < 256)
        return sym < 0 ? R_DATA : literal(z, (uint32_t)sym);
    if (sym == 256)
        return block_end(z);
    sym -= 257;
    if (sym >= 29)
        return R_DATA; /* 286, 287 */
    /* RFC 1951 3.2.5's tables as formulas: 4 lengths (2 distances) per extra bit count. */
    unsigned e = sym < 8 || sym == 28 ? 0 : (unsigned)(sym - 4) >> 2;
    uint32_t len = (sym == 28 ? 258 : sym < 8 ? (uint32_t)sym + 3 : ((4u | (sym & 3)) << e) + 3) + get(z, e);
    int d = decode(z, DIST_LENS(z), z->dcount, FW_INFLATE_DIST);
    if (d < 0)
        return R_DATA;
    e = d < 4 ? 0 : (unsigned)(d - 2) >> 1;
    uint32_t dist = (d < 4 ? (uint32_t)d + 1 : ((2u | (d & 1)) << e) + 1) + get(z, e);
    return z->starved ? R_OK : match(z, len, dist); /* starved: the step fails after */
}

static int step(fw_inflate *z)
{
    if (!ready(z, k_need[z->mode]))
        return R_SUSPEND;
    int r = R_OK;
    unsigned type, len;
    switch (z->mode) {
    case M_BLOCK:
        z->last = (uint8_t)get(z, 1);
        type = get(z, 2);
        if (type == 3)
            return R_DATA;
        if (type == 0)
            get(z, z->nbits & 7u); /* a stored block starts at a byte boundary */
        else if (type == 1)
            fixed_codes(z);
        z->mode = type == 0 ? M_STORED_LEN : type == 1 ? M_CODES : M_DYN;
        break;
    case M_STORED_LEN:
        len = get(z, 16);
        if (len != (~get(z, 16) & 0xFFFFu))
            return R_DATA; /* NLEN is not LEN's complement */
        z->idx = len;
        z->mode = M_STORED;
        break;
    case M_STORED:
        if (!z->idx)
            return block_end(z);
        z->idx--;
        r = literal(z, get(z, 8));
        break;
    case M_DYN:
        len = get(z, 14);
        z->nlen = (len & 31) + 257;
        z->ndist = (len >> 5 & 31) + 1;
        z->ncode = (len >> 10) + 4;
        if (z->nlen > 286 || z->ndist > 30)
            return R_DATA;
        memset(z->clens, 0, sizeof z->clens);
        z->idx = 0;
        z->mode = M_CLEN;
        break;
    case M_CLEN:
        if (z->idx < z->ncode) {
            set_nib(z->clens, k_clen_order[z->idx++], get(z, 3));
            break;
        }
        if (build(z->clens, z->dcount, 19, 0))
            return R_DATA;
        memset(z->lens, 0, sizeof z->lens);
        z->idx = 0;
        z->mode = M_LENS;
        break;
    case M_LENS:
        r = code_lengths(z);
        break;
    default:
        r = symbol(z);
    }
    return z->starved ? bad(z, E_IN_LEN) : r;
}

/* --- the block layer ------------------------------------------------------------------------- */

static int block_done(fw_inflate *z)
{
    if (z->pos != z->end)
        return bad(z, E_OUT_LEN);
    z->received = z->pos;
    z->state = ST_HEAD;
    z->hdr_n = 0;
    return R_OK;
}

static int head(fw_inflate *z)
{
    uint8_t b = *z->in;
    if (z->hdr_n == 0) {
        if (z->pos == z->size)
            return bad(z, E_RANGE); /* a block after the model's last byte */
        if (b != KIND_DEFLATE && (b != KIND_COPY || !z->base))
            return bad(z, "bad block kind"); /* unknown, or COPY in a stream without a base */
    }
    z->hdr[z->hdr_n++] = b;
    z->in++;
    z->avail--;
    if (z->hdr_n < (z->hdr[0] == KIND_COPY ? 7 : 5))
        return R_OK;
    int copy = z->hdr[0] == KIND_COPY;
    uint32_t out_len = fw_rd16(z->hdr + 1), arg = copy ? fw_rd32(z->hdr + 3) : fw_rd16(z->hdr + 3);
    /* out_len 0 or past size; COPY past the base's end; DEFLATE with in_len 0 */
    if (!out_len || out_len > z->size - z->pos || (copy ? arg > z->base_size || out_len > z->base_size - arg : !arg))
        return bad(z, E_RANGE);
    z->end = z->pos + out_len;
    if (copy) {
        TRY(put(z, z->base + arg, out_len));
        return block_done(z);
    }
    z->in_left = arg;
    z->bits = 0;
    z->nbits = 0;
    z->mode = M_BLOCK;
    z->state = ST_DEFLATE;
    return R_OK;
}

/* The final deflate block ended: it must end in the block's last byte and fill out_len. */
static int deflate_done(fw_inflate *z)
{
    if (z->in_left || z->nbits >= 8)
        return bad(z, E_IN_LEN);
    return block_done(z);
}

void fw_inflate_open(fw_inflate *z, const fw_store *store, uint8_t slot, uint32_t start, uint32_t size,
                     uint8_t base_slot, uint32_t base_size)
{
    memset(z, 0, sizeof *z);
    z->store = store;
    z->slot = slot;
    z->out = store->map(store->ctx, slot);
    if (base_slot != FW_NO_SLOT) {
        z->base = store->map(store->ctx, base_slot);
        z->base_size = base_size;
    }
    z->size = size;
    z->received = z->pos = start;
}

fw_err fw_inflate_feed(fw_inflate *z, const uint8_t *p, uint32_t n)
{
    z->in = p;
    z->avail = n;
    int r = R_OK;
    while (r == R_OK) {
        if (z->state == ST_HEAD) {
            if (!z->avail)
                break;
            r = head(z);
        } else {
            r = step(z);
            if (r == R_DONE)
                r = deflate_done(z);
            if (r == R_DATA)
                r = bad(z, E_DATA);
        }
    }
    if (r == R_OK || r == R_SUSPEND) {
        z->stream_pos += n;
        return FW_OK;
    }
    return r == R_BAD ? FW_E_DECODE_FAILED : FW_E_STORAGE;
}
