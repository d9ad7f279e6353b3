/* The encoded-upload decoder (core/fw_inflate.c) against every golden stream of
 * tests/golden/upload_streams.json, fed whole, byte by byte (a suspension at every split)
 * and in uneven pieces, with every write checked to land in [received, size). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fw_inflate.h"

#include "stream_vectors.h"

#define SLOT_BYTES 8192u
#define RECV 0u
#define BASE 1u

static struct {
    uint8_t slot[2][SLOT_BYTES];
    const fw_inflate *z;
    int stray; /* writes outside [received, size) of the receiving slot */
} S;

static int st_write(void *ctx, uint8_t slot, uint32_t off, const uint8_t *p, uint32_t n)
{
    (void)ctx;
    if (slot != RECV || off < S.z->received || off > S.z->size || n > S.z->size - off) {
        S.stray++;
        return 0;
    }
    memcpy(S.slot[slot] + off, p, n);
    return 0;
}

static const uint8_t *st_map(void *ctx, uint8_t slot)
{
    (void)ctx;
    return S.slot[slot];
}

static const fw_store k_store = {NULL, SLOT_BYTES, NULL, NULL, NULL, st_write, st_map};

/* Decode `v` feeding pieces of `piece` bytes (0: the whole stream at once, -1: sizes 1, 2, 3...). */
static void run(const stream_vector *v, int piece)
{
    static fw_inflate z;
    memset(S.slot, 0xFF, sizeof S.slot);
    memcpy(S.slot[RECV], v->model, v->start);
    if (v->base)
        memcpy(S.slot[BASE], v->base, v->base_size);
    S.z = &z;
    S.stray = 0;
    fw_inflate_open(&z, &k_store, RECV, v->start, v->size, v->base ? BASE : FW_NO_SLOT, v->base_size);
    fw_err e = FW_OK;
    uint32_t fed = 0, step = 1;
    while (fed < v->stream_len && e == FW_OK) {
        uint32_t n = piece == 0 ? v->stream_len : piece > 0 ? (uint32_t)piece : step++;
        if (n > v->stream_len - fed)
            n = v->stream_len - fed;
        e = fw_inflate_feed(&z, v->stream + fed, n);
        fed += n;
        if (e == FW_OK)
            CHECK_EQ(z.stream_pos, fed);
    }
    CHECK_EQ(S.stray, 0);
    if (v->failed_at < 0) {
        if (e != FW_OK || z.received != v->size)
            fprintf(stderr, "%s (pieces %d): %d at %u: %s\n", v->name, piece, e, z.received, z.why ? z.why : "");
        CHECK_EQ(e, FW_OK);
        CHECK_EQ(z.received, v->size);
        CHECK(memcmp(S.slot[RECV], v->model, v->size) == 0);
    } else {
        if (e != FW_E_DECODE_FAILED)
            fprintf(stderr, "%s (pieces %d): no failure\n", v->name, piece);
        CHECK_EQ(e, FW_E_DECODE_FAILED);
        CHECK_EQ(z.received, v->failed_at);
        CHECK(z.why && z.why[0]);
        CHECK(memcmp(S.slot[RECV], v->model, (size_t)v->failed_at) == 0);
    }
}

/* A store that fails: STORAGE, and the stream is closed. */
static int fail_write(void *ctx, uint8_t slot, uint32_t off, const uint8_t *p, uint32_t n)
{
    (void)ctx, (void)slot, (void)off, (void)p, (void)n;
    return -1;
}

static void test_storage_failure(void)
{
    static fw_inflate z;
    const stream_vector *v = &k_vectors[0];
    fw_store failing = k_store;
    failing.write = fail_write;
    fw_inflate_open(&z, &failing, RECV, 0, v->size, FW_NO_SLOT, 0);
    CHECK_EQ(fw_inflate_feed(&z, v->stream, v->stream_len), FW_E_STORAGE);
    CHECK_EQ(z.received, 0);
}

int main(void)
{
    size_t n = sizeof k_vectors / sizeof k_vectors[0];
    CHECK(n >= 20);
    for (size_t i = 0; i < n; i++) {
        CHECK(k_vectors[i].size <= SLOT_BYTES && k_vectors[i].base_size <= SLOT_BYTES);
        run(&k_vectors[i], 0);
        run(&k_vectors[i], 1);
        run(&k_vectors[i], -1);
        run(&k_vectors[i], 7);
    }
    test_storage_failure();
    return check_done("inflate");
}
