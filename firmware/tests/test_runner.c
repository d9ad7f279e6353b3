/* The reference runner: TFLM's integer helpers, refusal of malformed models (every
 * truncation of a real model, under the sanitizers), and the outputs that the TFLM
 * interpreter produced for input ids 0..7 of the bundled sine (EXAMPLES_DIR) and of
 * hello_world (MODELS_DIR), each checked when present; the full comparison
 * over many models runs in tests/firmware/test_ref_runner.py. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fw_input.h"
#include "fw_quant.h"
#include "fw_ref_runner.h"
#include "fw_tflite.h"

static union {
    uint8_t bytes[16384];
    uint64_t align; /* the runner keeps pointers and int32 arrays in the arena */
} g_arena_u;
#define g_arena g_arena_u.bytes

static void test_quant(void)
{
    int32_t m, s;
    fw_quantize_multiplier(0.5, &m, &s);
    CHECK_EQ(m, 1 << 30);
    CHECK_EQ(s, 0);
    fw_quantize_multiplier(1.0, &m, &s);
    CHECK_EQ(m, 1 << 30);
    CHECK_EQ(s, 1);
    fw_quantize_multiplier(0.0, &m, &s);
    CHECK_EQ(m, 0);
    fw_quantize_multiplier(1e-12, &m, &s); /* below 2^-31: flushed to zero */
    CHECK_EQ(m, 0);
    fw_quantize_multiplier(0.999999999999, &m, &s); /* rounds up to 1.0: renormalised */
    CHECK_EQ(m, 1 << 30);
    CHECK_EQ(s, 1);
    /* x * 0.5 with round half away from zero. */
    CHECK_EQ(fw_mul_by_quantized_multiplier(3, 1 << 30, 0), 2);
    CHECK_EQ(fw_mul_by_quantized_multiplier(-3, 1 << 30, 0), -1); /* gemmlowp: -1.5 -> -1 */
    CHECK_EQ(fw_mul_by_quantized_multiplier(100, 1 << 30, -2), 13); /* 100 / 8 = 12.5 */
    CHECK_EQ(fw_mul_by_quantized_multiplier(INT32_MIN, INT32_MIN, 0), INT32_MAX);
    int32_t lo, hi;
    fw_activation_range_int8(FW_ACT_RELU6, 0.05f, -10, &lo, &hi);
    CHECK_EQ(lo, -10);
    CHECK_EQ(hi, 110);
    fw_activation_range_int8(FW_ACT_RELU_N1_TO_1, 0.001f, 0, &lo, &hi);
    CHECK_EQ(lo, -128);
    CHECK_EQ(hi, 127);
    CHECK_EQ(fw_input_int8(0, 0), -128);
    CHECK_EQ(fw_input_int8(255, 0), 127);
    CHECK_EQ(fw_input_int8(1, 1), -96);
}

static void test_garbage(void)
{
    fw_ref_runner rr;
    fw_runner r = fw_ref_runner_make(&rr, g_arena, sizeof g_arena);
    char why[FW_WHY_SIZE] = "";
    uint32_t arena;
    uint8_t junk[256];
    memset(junk, 0xFF, sizeof junk);
    memcpy(junk + 4, "TFL3", 4);
    CHECK_EQ(r.check(r.ctx, junk, sizeof junk, &arena, why), FW_E_MODEL_INVALID);
    CHECK_EQ(r.check(r.ctx, junk, 3, &arena, why), FW_E_MODEL_INVALID);
    fw_output out;
    CHECK_EQ(r.invoke(r.ctx, 0, &out), FW_E_INFERENCE_FAILED);
}

static uint8_t *load(const char *dir, const char *name, size_t *size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(1u << 20); /* test code: the firmware itself never allocates */
    *size = fread(buf, 1, 1u << 20, f);
    fclose(f);
    return buf;
}

/* A FULLY_CONNECTED-only int8 model: its outputs for ids 0..7, its arena, and every
 * truncation refused. */
static void check_model(uint8_t *model, size_t size, int32_t zero_point, const uint8_t want[8])
{
    fw_ref_runner rr;
    fw_runner r = fw_ref_runner_make(&rr, g_arena, sizeof g_arena);
    char why[FW_WHY_SIZE] = "";
    uint32_t arena;
    CHECK_EQ(r.check(r.ctx, model, (uint32_t)size, &arena, why), FW_OK);
    CHECK(arena > 0 && arena < 1024);
    CHECK_EQ(r.start(r.ctx, model, (uint32_t)size), FW_OK);
    for (uint32_t id = 0; id < 8; id++) {
        fw_output out;
        CHECK_EQ(r.invoke(r.ctx, id, &out), FW_OK);
        CHECK_EQ(out.bytes, 1);
        CHECK_EQ(out.dtype, 9);
        CHECK_EQ(out.zero_point, zero_point);
        CHECK_EQ(out.data[0], want[id]);
    }
    /* The arena it reports is the arena it needs. */
    fw_ref_runner small;
    fw_runner rs = fw_ref_runner_make(&small, g_arena, arena - 16);
    CHECK_EQ(rs.check(rs.ctx, model, (uint32_t)size, &arena, why), FW_E_ARENA_TOO_SMALL);
    /* Every truncation is refused cleanly (ASan watches the reads). */
    uint8_t *copy = malloc(size);
    for (size_t n = 0; n < size; n++) {
        memcpy(copy, model, n);
        CHECK(r.check(r.ctx, copy, (uint32_t)n, &arena, why) != FW_OK);
    }
    free(copy);
}

static void check_refused(uint8_t *model, size_t size, const char *op)
{
    fw_ref_runner rr;
    fw_runner r = fw_ref_runner_make(&rr, g_arena, sizeof g_arena);
    char why[FW_WHY_SIZE] = "";
    uint32_t arena;
    CHECK_EQ(r.check(r.ctx, model, (uint32_t)size, &arena, why), FW_E_OP_UNSUPPORTED);
    CHECK(strcmp(why, op) == 0);
}

static void test_bundled(void)
{
    size_t size;
    uint8_t *model = load(EXAMPLES_DIR, "sine.tflite", &size);
    if (!model) { /* firmware/ copied out of the repository, or EXAMPLES_DIR elsewhere */
        printf("runner: %s/sine.tflite absent, skipping the bundled models' checks\n", EXAMPLES_DIR);
        return;
    }
    const uint8_t want[8] = {0x08, 0x08, 0x0c, 0x0d, 0x12, 0x16, 0x19, 0x1c};
    check_model(model, size, 0, want);
    free(model);
    model = load(EXAMPLES_DIR, "gesture.tflite", &size);
    CHECK(model != NULL);
    if (model) {
        check_refused(model, size, "RESHAPE");
        free(model);
    }
}

static void test_hello_world(void)
{
    size_t size;
    uint8_t *model = load(MODELS_DIR, "hello_world_int8.tflite", &size);
    if (!model) {
        printf("runner: %s/hello_world_int8.tflite absent, skipping its checks\n", MODELS_DIR);
        return;
    }
    const uint8_t want[8] = {0x04, 0x07, 0x0b, 0x0c, 0x0e, 0x13, 0x16, 0x19};
    check_model(model, size, 5, want);
    free(model);

    model = load(MODELS_DIR, "micro_speech_quantized.tflite", &size);
    if (model) {
        check_refused(model, size, "RESHAPE");
        free(model);
    }
}

int main(void)
{
    test_quant();
    test_garbage();
    test_bundled();
    test_hello_world();
    return check_done("runner");
}
