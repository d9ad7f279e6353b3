/* libFuzzer target: everything a board parses from outside.
 *
 *  1. the input as raw line bytes into a fresh board (COBS, CRC, framing, dispatch);
 *  2. the input as a script of requests [type, length, payload...] sent in valid
 *     frames, so BEGIN -> CHUNK -> COMMIT -> ACTIVATE sequences reach deep states;
 *  3. the input as a .tflite model for the reference runner (check, start, invoke);
 *  4. the input as a RUNTIME response payload for the host-side decoder: whatever it
 *     accepts must re-encode to the same bytes;
 *  5. the input as an encoded upload stream (PROTOCOL.md section 10) after a 7-byte header
 *     [flags, start u16, size u16, base size u16] for the decoder alone, with a base and a
 *     slot prefix made of the input's bytes, fed in pieces of a size the flags choose:
 *     every write must land in [received, size) of the receiving slot, the prefix must stay
 *     intact, and `received` must only grow, up to size.
 *
 * The board of steps 1 and 2 is test_hal's, which aborts on a slot write outside
 * [received, size) of the upload slot, MODEL_DATA included.
 *
 * A crash, sanitizer report or hang in any of them fails the run. */
#include <string.h>

#include "fw_host_codec.h"
#include "fw_inflate.h"
#include "fw_ref_runner.h"
#include "test_hal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static union {
    uint8_t bytes[32768];
    uint64_t align;
} g_arena;

/* The board's output is not checked here (the unit tests do); dropping it keeps each
 * run short, so a million inputs take minutes, not hours. */
static void drain(test_board *b) { b->out_len = b->out_read = 0; }

#define Z_SLOT 4096u

static struct {
    uint8_t slot[2][Z_SLOT];
    const fw_inflate *z;
} g_z;

static int z_write(void *ctx, uint8_t slot, uint32_t off, const uint8_t *p, uint32_t n)
{
    (void)ctx;
    if (slot != 0 || off < g_z.z->received || off > g_z.z->size || n > g_z.z->size - off)
        __builtin_trap();
    memcpy(g_z.slot[0] + off, p, n); /* ASan: a source overlapping its destination is a bug too */
    return 0;
}

static const uint8_t *z_map(void *ctx, uint8_t slot)
{
    (void)ctx;
    return g_z.slot[slot];
}

/* n bytes of `src` over and over (memcpy runs: this step must not slow the million inputs). */
static void repeat(uint8_t *dst, uint32_t n, const uint8_t *src, size_t len)
{
    for (uint32_t i = 0; i < n; i += (uint32_t)len)
        memcpy(dst + i, src, n - i < len ? n - i : len);
}

static void fuzz_stream(const uint8_t *data, size_t size)
{
    static const fw_store store = {NULL, Z_SLOT, NULL, NULL, NULL, z_write, z_map};
    static fw_inflate z;
    if (size < 8)
        return;
    uint32_t model = 1 + fw_rd16(data + 3) % Z_SLOT, start = fw_rd16(data + 1) % (model + 1);
    uint32_t base_size = fw_rd16(data + 5) % (Z_SLOT + 1), piece = 1 + (data[0] >> 1) * 8u;
    const uint8_t *stream = data + 7;
    size_t len = size - 7;
    repeat(g_z.slot[0], start, stream, len);
    memset(g_z.slot[0] + start, 0xFF, model - start);
    repeat(g_z.slot[1], base_size, stream + len / 2, len - len / 2);
    g_z.z = &z;
    fw_inflate_open(&z, &store, 0, start, model, (data[0] & 1) ? 1 : FW_NO_SLOT, base_size);
    fw_err e = FW_OK;
    for (size_t at = 0; at < len && e == FW_OK; at += piece) {
        uint32_t before = z.received;
        e = fw_inflate_feed(&z, stream + at, (uint32_t)(len - at < piece ? len - at : piece));
        if (z.received < before || z.received > model || (e == FW_E_DECODE_FAILED && !z.why))
            __builtin_trap();
    }
    static uint8_t prefix[Z_SLOT];
    repeat(prefix, start, stream, len);
    if (memcmp(prefix, g_z.slot[0], start) != 0)
        __builtin_trap(); /* the bytes below the stream's start never change */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static test_board b;

    tb_boot(&b, 0, FW_BOOT_POWER_ON);
    fw_device_input(&b.dev, data, size);
    b.now += 50000;
    fw_device_poll(&b.dev);
    drain(&b);

    /* Up to 32 requests: enough for BEGIN, chunks, COMMIT, ACTIVATE, CONFIRM... while
     * keeping a run short enough for a million of them. */
    tb_boot(&b, 0, FW_BOOT_POWER_ON);
    int requests = 0;
    for (size_t i = 0; i + 2 <= size && requests++ < 32 && !fw_device_reboot_requested(&b.dev);) {
        uint8_t type = data[i], len = data[i + 1];
        i += 2;
        if (len > size - i)
            len = (uint8_t)(size - i);
        tb_send(&b, type, (uint16_t)i, data + i, len);
        i += len;
        b.now += 20000;
        fw_device_poll(&b.dev);
        drain(&b);
    }

    fw_ref_runner rr;
    fw_runner r = fw_ref_runner_make(&rr, g_arena.bytes, sizeof g_arena.bytes);
    char why[FW_WHY_SIZE];
    uint32_t arena;
    fw_output out;
    if (r.check(r.ctx, data, (uint32_t)size, &arena, why) == FW_OK && r.start(r.ctx, data, (uint32_t)size) == FW_OK)
        r.invoke(r.ctx, 7, &out);

    static fw_runtime_buf rt;
    static uint8_t again[65536];
    fw_op_list ops;
    if (fw_dec_runtime(data, size, &rt, &ops) == FW_OK) {
        fw_cur c = fw_cur_make(again, sizeof again);
        fw_enc_runtime(&c, &ops);
        if (c.bad || c.pos != size || memcmp(again, data, size) != 0)
            __builtin_trap();
    }

    fuzz_stream(data, size);
    return 0;
}
