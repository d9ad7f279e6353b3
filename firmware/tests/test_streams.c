/* The stream scheduler: inference cadence, result rate limiting, TOPK, POWER with
 * energy, LOG filtering and the clamping STREAM_CONFIG applies. */
#include <string.h>

#include "check.h"
#include "fw_host_codec.h"
#include "fw_sha256.h"
#include "test_hal.h"

static test_board B;

static fw_stream_config configure(uint8_t streams, uint8_t level, uint16_t result_ms, uint16_t power_ms, uint8_t k)
{
    uint8_t p[7] = {streams, level, (uint8_t)result_ms, (uint8_t)(result_ms >> 8), (uint8_t)power_ms,
                    (uint8_t)(power_ms >> 8), k};
    fw_frame f = tb_call(&B, FW_T_STREAM_CONFIG, p, 7);
    fw_stream_config applied;
    CHECK(fw_dec_stream_config(f.payload, f.length, &applied) == FW_OK);
    return applied;
}

/* Advance the clock in 1 ms steps for `ms`, polling; count the events by type. */
static void run_for(unsigned ms, unsigned counts[0x40])
{
    fw_frame f;
    for (unsigned i = 0; i < ms; i++) {
        fw_device_poll(&B.dev);
        B.now += 1000;
    }
    while (tb_next(&B, &f))
        if (f.type < 0x40 && !(f.flags & FW_FLAG_RESPONSE))
            counts[f.type]++;
}

static void test_results(void)
{
    unsigned counts[0x40] = {0};
    fw_frame f;
    tb_boot(&B, 0, FW_BOOT_POWER_ON);
    tb_run_model(&B);
    run_for(100, counts);
    CHECK_EQ(counts[FW_T_INFER_RESULT], 0); /* streams are off after boot */

    configure(FW_STREAM_RESULTS, FW_LOG_INFO, 0, 0, 0);
    fw_device_poll(&B.dev);
    B.now += 10000;
    fw_device_poll(&B.dev);
    fw_infer_result r[2];
    int n = 0;
    while (n < 2 && tb_next(&B, &f))
        if (f.type == FW_T_INFER_RESULT)
            CHECK(fw_dec_infer_result(f.payload, f.length, &r[n++]) == FW_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(r[1].input_id, r[0].input_id + 1);
    CHECK_EQ(r[1].inference_count, r[1].input_id + 1);
    CHECK_EQ(r[0].latency_us, 7);
    CHECK_EQ(r[0].dtype, 9);
    CHECK_EQ(r[0].format, FW_FORMAT_RAW);
    CHECK_EQ(r[0].zero_point, -3);
    CHECK(r[0].scale == 0.5f);
    CHECK_EQ(r[1].data.len, 4); /* r[1]'s data is still in the receive buffer */
    CHECK_EQ(r[1].data.data[0], (uint8_t)r[1].input_id);
    CHECK_EQ(r[1].data.data[3], (uint8_t)(r[1].input_id + 3));
    CHECK_EQ(r[0].model_prefix[0], B.dev.slots.p.slot[0].info.sha256[0]);

    /* 10 ms inference period, at most one result per 25 ms: every third inference. */
    memset(counts, 0, sizeof counts);
    configure(FW_STREAM_RESULTS, FW_LOG_INFO, 25, 0, 0);
    run_for(300, counts);
    CHECK(counts[FW_T_INFER_RESULT] >= 9 && counts[FW_T_INFER_RESULT] <= 11);

    configure(FW_STREAM_RESULTS, FW_LOG_INFO, 0, 0, 2);
    B.now += 10000;
    fw_device_poll(&B.dev);
    CHECK(tb_next(&B, &f) && fw_dec_infer_result(f.payload, f.length, &r[0]) == FW_OK);
    CHECK_EQ(r[0].format, FW_FORMAT_TOPK);
    CHECK_EQ(r[0].data.len, 6);
}

static void test_topk(void)
{
    const int8_t v[] = {5, -3, 9, 9, 0, -128};
    fw_output o = {9, 1.0f, 0, (const uint8_t *)v, sizeof v};
    uint8_t dst[64];
    CHECK_EQ(fw_topk(&o, 4, dst), 12);
    const uint8_t want[] = {2, 0, 9, 3, 0, 9, 0, 0, 5, 4, 0, 0}; /* ties: lower index first */
    CHECK(memcmp(dst, want, 12) == 0);
    CHECK_EQ(fw_topk(&o, 10, dst), 18); /* k beyond the tensor: every element */
    CHECK_EQ(dst[15], 5);
    CHECK_EQ((int8_t)dst[17], -128);
    const int16_t w[] = {-300, 1000, 2};
    fw_output o16 = {7, 1.0f, 0, (const uint8_t *)w, sizeof w};
    CHECK_EQ(fw_topk(&o16, 1, dst), 4);
    CHECK_EQ(dst[0], 1);
}

static void test_power_and_log(void)
{
    unsigned counts[0x40] = {0};
    fw_frame f;
    tb_boot(&B, 0, FW_BOOT_POWER_ON);
    fw_stream_config a = configure(0xFF, 9, 0, 0, 200);
    CHECK_EQ(a.streams, FW_STREAM_RESULTS | FW_STREAM_POWER | FW_STREAM_LOG);
    CHECK_EQ(a.log_level, FW_LOG_ERROR);
    CHECK_EQ(a.power_interval_ms, 10); /* the test board's fastest */
    CHECK_EQ(a.top_k, 32);

    configure(FW_STREAM_POWER, FW_LOG_INFO, 0, 50, 0);
    run_for(1000, counts);
    CHECK(counts[FW_T_POWER] >= 19 && counts[FW_T_POWER] <= 21);
    B.now += 1000000;
    fw_device_poll(&B.dev); /* POWER is due again: carries the energy so far */
    fw_power p = {0, 0, 0, 0};
    while (tb_next(&B, &f))
        if (f.type == FW_T_POWER)
            CHECK(fw_dec_power(f.payload, f.length, &p) == FW_OK);
    CHECK_EQ(p.voltage_mv, 3300);
    CHECK_EQ(p.current_ua, 2000);
    /* 2 s at 3.3 V x 2 mA = 13.2 mJ. */
    CHECK(p.energy_uj >= 13100 && p.energy_uj <= 13300);

    /* LOG: a refused commit logs a warning, filtered by level. */
    configure(FW_STREAM_LOG, FW_LOG_ERROR, 0, 0, 0);
    uint8_t slot = 0;
    tb_call(&B, FW_T_MODEL_COMMIT, &slot, 1); /* NO_UPLOAD: not a verify failure, no log */
    memset(counts, 0, sizeof counts);
    run_for(1, counts);
    CHECK_EQ(counts[FW_T_LOG], 0);
}

int main(void)
{
    test_results();
    test_topk();
    test_power_and_log();
    return check_done("streams");
}
