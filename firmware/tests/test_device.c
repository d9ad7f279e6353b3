/* The board end to end through its wire: every request, the upload state machine
 * (resume, go-back-N, verify, test/confirm/rollback, reboot revert) and its errors. */
#include <string.h>

#include "check.h"
#include "fw_host_codec.h"
#include "fw_sha256.h"
#include "test_hal.h"

static test_board B;

static fw_frame call(uint8_t type, const uint8_t *p, size_t n) { return tb_call(&B, type, p, n); }

static fw_frame call_u8(uint8_t type, uint8_t v) { return call(type, &v, 1); }

static fw_frame begin(uint8_t slot, const uint8_t *model, uint32_t size, const char *name)
{
    return tb_begin(&B, slot, model, size, name);
}

static uint32_t u32_of(fw_frame f)
{
    fw_chunk_ack ack = {0xFFFFFFFFu};
    CHECK(fw_dec_chunk_ack(f.payload, f.length, &ack) == FW_OK);
    return ack.next_offset;
}

static fw_frame chunk(uint32_t offset, const uint8_t *data, size_t n) { return tb_at(&B, FW_T_MODEL_CHUNK, offset, data, n); }

static void upload(uint8_t slot, const uint8_t *model, uint32_t size)
{
    fw_frame f = begin(slot, model, size, "m");
    CHECK_EQ(tb_error(&f), 0);
    fw_begin_ack ack;
    CHECK(fw_dec_begin_ack(f.payload, f.length, &ack) == FW_OK);
    for (uint32_t off = ack.offset; off < size; off += 500) {
        f = chunk(off, model + off, size - off < 500 ? size - off : 500);
        CHECK_EQ(u32_of(f), off + (size - off < 500 ? size - off : 500));
    }
    f = call_u8(FW_T_MODEL_COMMIT, slot);
    CHECK_EQ(tb_error(&f), 0);
}

static fw_slot_status status_of(const fw_frame *f)
{
    fw_slot_status s;
    memset(&s, 0, sizeof s);
    CHECK(fw_dec_slot_status(f->payload, f->length, &s) == FW_OK);
    return s;
}

static fw_frame activate(uint8_t slot, uint8_t mode)
{
    uint8_t p[2] = {slot, mode};
    return call(FW_T_MODEL_ACTIVATE, p, 2);
}

static void test_boot_and_hello(void)
{
    fw_frame f;
    fw_boot boot;
    tb_boot(&B, 0, FW_BOOT_POWER_ON);
    CHECK(tb_next(&B, &f));
    CHECK_EQ(f.type, FW_T_BOOT);
    CHECK_EQ(f.seq, 0);
    CHECK(fw_dec_boot(f.payload, f.length, &boot) == FW_OK);
    CHECK_EQ(boot.boot_count, 1);
    CHECK_EQ(boot.reason, FW_BOOT_POWER_ON);

    uint8_t hello[3] = {1, 0x00, 0x10};
    f = call(FW_T_HELLO, hello, 3);
    fw_info info;
    CHECK(fw_dec_info(f.payload, f.length, &info) == FW_OK);
    CHECK_EQ(info.proto_version, 1);
    CHECK_EQ(info.active_slot, FW_NO_SLOT);
    CHECK_EQ(info.max_payload, TB_MAX_PAYLOAD);
    CHECK_EQ(info.capabilities, 0xFF); /* RESUME RESULTS POWER LOG REBOOT RUNTIME DEFLATE DELTA */
    CHECK_EQ(info.slot_bytes, TB_SLOT_BYTES);
    CHECK_EQ(info.uid.len, 4);
    CHECK(memcmp(info.board_kind.s, "testboard", 9) == 0);
    CHECK_EQ(info.slots[0].state, FW_SLOT_EMPTY);

    f = call(FW_T_HELLO, hello, 2);
    CHECK_EQ(tb_error(&f), FW_E_BAD_PAYLOAD);

    B.now = 123456789;
    f = call(FW_T_PING, (const uint8_t *)"xyz", 3);
    fw_pong pong;
    CHECK(fw_dec_pong(f.payload, f.length, &pong) == FW_OK);
    CHECK_EQ(pong.device_time_us, 123456789);
    CHECK_EQ(pong.data.len, 3);
    static uint8_t big[TB_MAX_PAYLOAD];
    f = call(FW_T_PING, big, TB_MAX_PAYLOAD - 8);
    CHECK_EQ(tb_error(&f), 0);
    f = call(FW_T_PING, big, TB_MAX_PAYLOAD - 7);
    CHECK_EQ(tb_error(&f), FW_E_BAD_PAYLOAD);

    f = call(0x1F, NULL, 0);
    CHECK_EQ(tb_error(&f), FW_E_UNKNOWN_TYPE);
    f = call(FW_T_INFER_RESULT, NULL, 0); /* an event type is not a request */
    CHECK_EQ(tb_error(&f), FW_E_UNKNOWN_TYPE);
    f = call(FW_T_MODEL_ROLLBACK, big, 1);
    CHECK_EQ(tb_error(&f), FW_E_BAD_PAYLOAD);
}

static void test_upload_and_lifecycle(void)
{
    static uint8_t model[3000];
    static uint8_t other[1200];
    fw_frame f;
    memset(model, 'M', sizeof model);
    memset(other, 'N', sizeof other);
    tb_boot(&B, 0, FW_BOOT_POWER_ON);

    /* Errors before any upload. */
    f = chunk(0, model, 10);
    CHECK_EQ(tb_error(&f), FW_E_NO_UPLOAD);
    f = call_u8(FW_T_MODEL_COMMIT, 0);
    CHECK_EQ(tb_error(&f), FW_E_NO_UPLOAD);
    f = begin(2, model, sizeof model, "m");
    CHECK_EQ(tb_error(&f), FW_E_BAD_SLOT);
    f = begin(0, NULL, TB_SLOT_BYTES + 1, "m");
    CHECK_EQ(tb_error(&f), FW_E_TOO_LARGE);
    f = begin(0, NULL, 0, "m");
    CHECK_EQ(tb_error(&f), FW_E_TOO_LARGE);

    /* Begin, chunks with a gap and a retransmission, resume. */
    f = begin(0, model, sizeof model, "hello");
    fw_begin_ack ack;
    CHECK(fw_dec_begin_ack(f.payload, f.length, &ack) == FW_OK);
    CHECK_EQ(ack.offset, 0);
    CHECK_EQ(u32_of(chunk(0, model, 500)), 500);
    CHECK_EQ(u32_of(chunk(1000, model + 1000, 500)), 500); /* gap: dropped */
    CHECK_EQ(u32_of(chunk(0, model, 500)), 500);           /* already held */
    CHECK_EQ(u32_of(chunk(500, model + 500, 500)), 1000);
    f = chunk(2900, model, 101);
    CHECK_EQ(tb_error(&f), FW_E_OUT_OF_RANGE);
    f = chunk(1000, model, 0);
    CHECK_EQ(tb_error(&f), FW_E_BAD_PAYLOAD);
    f = call_u8(FW_T_MODEL_COMMIT, 0);
    CHECK_EQ(tb_error(&f), FW_E_INCOMPLETE);
    f = begin(0, model, sizeof model, "hello"); /* the host reconnected */
    CHECK(fw_dec_begin_ack(f.payload, f.length, &ack) == FW_OK);
    CHECK_EQ(ack.offset, 1000);
    /* A reset keeps the upload and its offset too. */
    tb_boot(&B, 1, FW_BOOT_POWER_ON);
    CHECK_EQ(u32_of(chunk(1000, model + 1000, 500)), 1500);
    upload(0, model, sizeof model);
    f = call_u8(FW_T_MODEL_COMMIT, 0); /* again: success again */
    fw_commit_ack cack;
    CHECK(fw_dec_commit_ack(f.payload, f.length, &cack) == FW_OK);
    CHECK_EQ(cack.arena_used, 100);
    f = begin(0, model, sizeof model, "hello"); /* complete and VALID: offset == size */
    CHECK(fw_dec_begin_ack(f.payload, f.length, &ack) == FW_OK);
    CHECK_EQ(ack.offset, sizeof model);

    /* Test, confirm. */
    f = call_u8(FW_T_MODEL_CONFIRM, 0);
    CHECK_EQ(tb_error(&f), FW_E_NOT_PENDING);
    f = activate(0, 7);
    CHECK_EQ(tb_error(&f), FW_E_BAD_PAYLOAD);
    f = activate(0, FW_ACTIVATE_TEST);
    fw_slot_status st = status_of(&f);
    CHECK_EQ(st.active_slot, 0);
    CHECK_EQ(st.slots[0].state, FW_SLOT_PENDING);
    CHECK(B.running);
    f = call_u8(FW_T_MODEL_CONFIRM, 0);
    st = status_of(&f);
    CHECK_EQ(st.slots[0].state, FW_SLOT_ACTIVE);
    f = call_u8(FW_T_MODEL_CONFIRM, 0);
    CHECK_EQ(tb_error(&f), 0);
    f = begin(0, model, sizeof model, "hello");
    CHECK_EQ(tb_error(&f), FW_E_BAD_SLOT); /* running and ACTIVE: never written */

    /* A second model under test, rolled back. */
    upload(1, other, sizeof other);
    f = activate(1, FW_ACTIVATE_TEST);
    st = status_of(&f);
    CHECK_EQ(st.active_slot, 1);
    CHECK_EQ(st.slots[0].state, FW_SLOT_ACTIVE);
    CHECK_EQ(st.slots[1].state, FW_SLOT_PENDING);
    f = activate(1, FW_ACTIVATE_TEST); /* already running: status */
    CHECK_EQ(status_of(&f).active_slot, 1);
    f = call(FW_T_MODEL_ROLLBACK, NULL, 0);
    st = status_of(&f);
    CHECK_EQ(st.active_slot, 0);
    CHECK_EQ(st.slots[1].state, FW_SLOT_VALID);
    f = call(FW_T_MODEL_ROLLBACK, NULL, 0); /* nothing pending: no change */
    CHECK_EQ(status_of(&f).active_slot, 0);

    /* Test again, then reboot before confirming: the board reverts. */
    activate(1, FW_ACTIVATE_TEST);
    f = call_u8(FW_T_REBOOT, 1);
    CHECK_EQ(tb_error(&f), FW_E_BAD_PAYLOAD);
    f = call_u8(FW_T_REBOOT, 0);
    CHECK_EQ(tb_error(&f), 0);
    CHECK_EQ(f.length, 0);
    CHECK(fw_device_reboot_requested(&B.dev));
    tb_boot(&B, 1, FW_BOOT_REQUESTED);
    fw_boot boot;
    CHECK(tb_next(&B, &f) && fw_dec_boot(f.payload, f.length, &boot) == FW_OK);
    CHECK_EQ(boot.reason, FW_BOOT_REQUESTED);
    CHECK_EQ(boot.boot_count, 3);
    uint8_t hello[3] = {1, 0x00, 0x10};
    f = call(FW_T_HELLO, hello, 3);
    fw_info info;
    CHECK(fw_dec_info(f.payload, f.length, &info) == FW_OK);
    CHECK_EQ(info.active_slot, 0);
    CHECK_EQ(info.slots[1].state, FW_SLOT_VALID);

    /* Permanent activation swaps the boot choice. */
    f = activate(1, FW_ACTIVATE_PERMANENT);
    st = status_of(&f);
    CHECK_EQ(st.active_slot, 1);
    CHECK_EQ(st.slots[0].state, FW_SLOT_VALID);
    CHECK_EQ(st.slots[1].state, FW_SLOT_ACTIVE);
    f = activate(0, FW_ACTIVATE_TEST);
    f = call_u8(FW_T_MODEL_CONFIRM, 0);
    st = status_of(&f);
    CHECK_EQ(st.slots[0].state, FW_SLOT_ACTIVE);
    CHECK_EQ(st.slots[1].state, FW_SLOT_VALID);
}

static void test_verify_failures(void)
{
    static uint8_t model[700];
    fw_frame f;
    tb_boot(&B, 0, FW_BOOT_POWER_ON);
    memset(model, 'O', sizeof model);
    f = begin(0, model, sizeof model, "bad");
    chunk(0, model, 500);
    model[600] = 'x'; /* the bytes sent differ from the hash announced */
    chunk(500, model + 500, 200);
    f = call_u8(FW_T_MODEL_COMMIT, 0);
    CHECK_EQ(tb_error(&f), FW_E_HASH_MISMATCH);
    f = call_u8(FW_T_MODEL_COMMIT, 0);
    CHECK_EQ(tb_error(&f), FW_E_NO_UPLOAD); /* erased to EMPTY */

    f = begin(0, model, sizeof model, "op");
    chunk(0, model, 500);
    chunk(500, model + 500, 200);
    f = call_u8(FW_T_MODEL_COMMIT, 0);
    CHECK_EQ(tb_error(&f), FW_E_OP_UNSUPPORTED);
    fw_error_msg e;
    CHECK(fw_dec_error_msg(f.payload, f.length, &e) == FW_OK);
    CHECK(e.text.len == 7 && memcmp(e.text.data, "FAKE_OP", 7) == 0);
    f = activate(0, FW_ACTIVATE_TEST);
    CHECK_EQ(tb_error(&f), FW_E_NOT_VERIFIED);

    memset(model, 'A', sizeof model);
    f = begin(1, model, sizeof model, "arena");
    chunk(0, model, 500);
    chunk(500, model + 500, 200);
    f = call_u8(FW_T_MODEL_COMMIT, 1);
    CHECK(fw_dec_error_msg(f.payload, f.length, &e) == FW_OK);
    CHECK_EQ(e.code, FW_E_ARENA_TOO_SMALL);
    CHECK_EQ(e.detail, 999999);

    /* Storage failures are reported, not ignored. */
    B.store.fail_writes = 1;
    f = begin(0, model, 10, "x");
    CHECK_EQ(tb_error(&f), FW_E_STORAGE);
    B.store.fail_writes = 0;
}

/* RUNTIME answers the runner's own op list; a list that breaks the limits or does not
 * fit the host's payload is INTERNAL, never a truncated answer. */
static void test_runtime(void)
{
    static fw_runtime_buf buf;
    fw_op_list ops;
    tb_boot(&B, 0, FW_BOOT_POWER_ON);
    fw_frame f = call(FW_T_RUNTIME, NULL, 0);
    CHECK_EQ(tb_error(&f), 0);
    CHECK(fw_dec_runtime(f.payload, f.length, &buf, &ops) == FW_OK);
    CHECK(!strcmp(ops.runtime, "test-runner 1"));
    CHECK_EQ(ops.n_builtins, 2);
    CHECK_EQ(ops.builtins[0], 9);
    CHECK_EQ(ops.builtins[1], 3);
    CHECK_EQ(ops.n_customs, 1);
    CHECK(!strcmp(ops.customs[0], "FleetTestOp"));

    f = call(FW_T_RUNTIME, (const uint8_t *)"x", 1);
    CHECK_EQ(tb_error(&f), FW_E_BAD_PAYLOAD);

    uint8_t small_host[3] = {1, 24, 0}; /* the answer takes 33 bytes */
    f = call(FW_T_HELLO, small_host, 3);
    f = call(FW_T_RUNTIME, NULL, 0);
    CHECK_EQ(tb_error(&f), FW_E_INTERNAL);
    uint8_t hello[3] = {1, 0x00, 0x10};
    f = call(FW_T_HELLO, hello, 3);

    /* 65 bytes: one over FW_MAX_OP_NAME (TFLM's own names run to 35, which must pass) */
    static const char *const long_name[] = {"a-custom-operator-name-of-sixty-five-bytes-is-one-byte-too-long-x"};
    fw_op_list bad = {"r", NULL, 0, long_name, 1};
    const fw_op_list *good = B.hal.runner.ops;
    B.hal.runner.ops = &bad;
    f = call(FW_T_RUNTIME, NULL, 0);
    CHECK_EQ(tb_error(&f), FW_E_INTERNAL);
    static const char *const tflm_name[] = {"SignalFilterBankSpectralSubtraction"}; /* 35 bytes */
    bad.customs = tflm_name;
    f = call(FW_T_RUNTIME, NULL, 0);
    CHECK_EQ(tb_error(&f), 0);
    static const char *const empty_name[] = {""};
    bad.customs = empty_name;
    f = call(FW_T_RUNTIME, NULL, 0);
    CHECK_EQ(tb_error(&f), FW_E_INTERNAL);

    /* A runner that does not say what it runs: no capability bit, and RUNTIME is unknown. */
    B.hal.runner.ops = NULL;
    f = call(FW_T_HELLO, hello, 3);
    fw_info info;
    CHECK(fw_dec_info(f.payload, f.length, &info) == FW_OK);
    CHECK_EQ(info.capabilities, 0xDF);
    f = call(FW_T_RUNTIME, NULL, 0);
    CHECK_EQ(tb_error(&f), FW_E_UNKNOWN_TYPE);
    B.hal.runner.ops = good;
}

/* The host-side decoder refuses what the spec forbids. */
static void test_runtime_decode_refusals(void)
{
    static fw_runtime_buf buf;
    fw_op_list ops;
    static const struct {
        const char *what;
        uint8_t p[16];
        size_t n;
    } bad[] = {
        {"empty", {0}, 0},
        {"count past the end", {0, 5, 0, 9, 0, 0}, 6},
        {"repeated code", {0, 2, 0, 9, 0, 9, 0, 0}, 8},
        {"CUSTOM by code", {0, 1, 0, 32, 0, 0}, 6},
        {"repeated custom", {0, 0, 0, 2, 1, 'A', 1, 'A'}, 8},
        {"empty custom", {0, 0, 0, 1, 0}, 5},
        {"custom past the end", {0, 0, 0, 1, 5, 'a'}, 6},
        {"invalid UTF-8", {0, 0, 0, 1, 2, 0xFF, 0xFE}, 7},
        {"NUL in a name", {0, 0, 0, 1, 2, 'a', 0}, 7},
        {"ESC in the runtime", {2, 0x1B, 'x', 0, 0, 0}, 6},
        {"C1 CSI in a name", {0, 0, 0, 1, 3, 'a', 0xC2, 0x9B}, 8},
        {"trailing byte", {0, 0, 0, 0, 0}, 5},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (fw_dec_runtime(bad[i].p, bad[i].n, &buf, &ops) == FW_OK) {
            g_failed++;
            fprintf(stderr, "fw_dec_runtime accepted: %s\n", bad[i].what);
        }
    uint8_t long_runtime[40] = {33};
    memset(long_runtime + 1, 'x', 33);
    CHECK(fw_dec_runtime(long_runtime, 37, &buf, &ops) != FW_OK);
    g_checks += sizeof bad / sizeof bad[0];
}

int main(void)
{
    test_boot_and_hello();
    test_upload_and_lifecycle();
    test_verify_failures();
    test_runtime();
    test_runtime_decode_refusals();
    return check_done("device");
}
