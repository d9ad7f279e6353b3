/* libFuzzer target: everything a board parses from outside.
 *
 *  1. the input as raw line bytes into a fresh board (COBS, CRC, framing, dispatch);
 *  2. the input as a script of requests [type, length, payload...] sent in valid
 *     frames, so BEGIN -> CHUNK -> COMMIT -> ACTIVATE sequences reach deep states;
 *  3. the input as a .tflite model for the reference runner (check, start, invoke);
 *  4. the input as a RUNTIME response payload for the host-side decoder: whatever it
 *     accepts must re-encode to the same bytes.
 *
 * A crash, sanitizer report or hang in any of them fails the run. */
#include <string.h>

#include "fw_host_codec.h"
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
    return 0;
}
