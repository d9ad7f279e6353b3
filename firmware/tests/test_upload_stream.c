/* Encoded uploads through the board's wire (PROTOCOL.md section 10): MODEL_STREAM and
 * MODEL_DATA with go-back-N, compressed and delta uploads of the golden streams, resume after
 * a reset mid-stream, BASE_MISMATCH, and a decode error that leaves the old model running.
 * test_hal aborts on any slot write outside [received, size) of the upload slot. */
#include <string.h>

#include "check.h"
#include "fw_host_codec.h"
#include "test_hal.h"

#include "stream_vectors.h"

static test_board B;

static int err_of(fw_frame f) { return tb_error(&f); }

static const stream_vector *vec(const char *name)
{
    for (size_t i = 0; i < sizeof k_vectors / sizeof k_vectors[0]; i++)
        if (!strcmp(k_vectors[i].name, name))
            return &k_vectors[i];
    fprintf(stderr, "no golden stream %s\n", name);
    CHECK(0);
    return &k_vectors[0];
}

static fw_frame open_stream(uint8_t base_slot, const uint8_t *base, uint32_t base_size)
{
    uint8_t buf[64];
    fw_model_stream m = {FW_ENCODING_BLOCKS, base_slot, {0}};
    if (base)
        tb_sha256(base, base_size, m.base_sha256);
    fw_cur c = fw_cur_make(buf, sizeof buf);
    fw_enc_model_stream(&c, &m);
    return tb_call(&B, FW_T_MODEL_STREAM, buf, c.pos);
}

static uint32_t stream_offset(fw_frame f)
{
    fw_stream_ack a = {0xFFFFFFFFu};
    CHECK_EQ(tb_error(&f), 0);
    CHECK(fw_dec_stream_ack(f.payload, f.length, &a) == FW_OK);
    return a.offset;
}

static fw_frame data(uint32_t offset, const uint8_t *p, size_t n) { return tb_at(&B, FW_T_MODEL_DATA, offset, p, n); }

static fw_data_ack ack_of(fw_frame f)
{
    fw_data_ack a = {0xFFFFFFFFu, 0xFFFFFFFFu};
    CHECK_EQ(tb_error(&f), 0);
    CHECK(fw_dec_data_ack(f.payload, f.length, &a) == FW_OK);
    return a;
}

/* Send stream[from, to) in payloads of `piece`; returns the last ack. */
static fw_data_ack send_stream(const uint8_t *stream, uint32_t from, uint32_t to, uint32_t piece)
{
    fw_data_ack a = {from, 0};
    for (uint32_t off = from; off < to; off += piece) {
        uint32_t n = to - off < piece ? to - off : piece;
        a = ack_of(data(off, stream + off, n));
        CHECK_EQ(a.next_offset, off + n);
    }
    return a;
}

static fw_slot_info slot_info(uint8_t slot)
{
    uint8_t hello[3] = {1, 0x00, 0x10};
    fw_frame f = tb_call(&B, FW_T_HELLO, hello, 3);
    fw_info info;
    memset(&info, 0, sizeof info);
    CHECK(fw_dec_info(f.payload, f.length, &info) == FW_OK);
    return info.slots[slot];
}

static void commit_ok(uint8_t slot)
{
    fw_frame f = tb_call(&B, FW_T_MODEL_COMMIT, &slot, 1);
    CHECK_EQ(tb_error(&f), 0);
}

/* A plain upload (chunks), committed: a base for the deltas. */
static void plain_upload(uint8_t slot, const uint8_t *model, uint32_t size)
{
    CHECK_EQ(err_of(tb_begin(&B, slot, model, size, "base")), 0);
    for (uint32_t off = 0; off < size; off += 500)
        CHECK_EQ(err_of(tb_at(&B, FW_T_MODEL_CHUNK, off, model + off, size - off < 500 ? size - off : 500)), 0);
    commit_ok(slot);
}

static void test_refusals(void)
{
    const stream_vector *v = vec("compress_sine");
    tb_boot(&B, 0, FW_BOOT_POWER_ON);
    CHECK_EQ(err_of(open_stream(FW_NO_SLOT, NULL, 0)), FW_E_NO_UPLOAD);
    CHECK_EQ(err_of(data(0, v->stream, 10)), FW_E_NO_UPLOAD);
    CHECK_EQ(tb_begin(&B, 0, v->model, v->size, "sine").type, FW_T_MODEL_BEGIN);
    CHECK_EQ(err_of(data(0, v->stream, 10)), FW_E_NO_UPLOAD); /* BEGIN opens no stream */
    uint8_t bad[34] = {2, FW_NO_SLOT};
    CHECK_EQ(err_of(tb_call(&B, FW_T_MODEL_STREAM, bad, 34)), FW_E_BAD_PAYLOAD); /* 34 bytes */
    uint8_t payload[35] = {2, FW_NO_SLOT};
    CHECK_EQ(err_of(tb_call(&B, FW_T_MODEL_STREAM, payload, 35)), FW_E_BAD_PAYLOAD); /* encoding 2 */
    payload[0] = 1;
    payload[1] = 2;
    CHECK_EQ(err_of(tb_call(&B, FW_T_MODEL_STREAM, payload, 35)), FW_E_BAD_PAYLOAD); /* slot 2 */
    /* A base that is the receiving slot, or an empty slot: BASE_MISMATCH naming the slot. */
    fw_frame f = open_stream(0, v->model, v->size);
    fw_error_msg err;
    CHECK_EQ(tb_error(&f), FW_E_BASE_MISMATCH);
    CHECK(fw_dec_error_msg(f.payload, f.length, &err) == FW_OK && err.detail == 0);
    f = open_stream(1, v->model, v->size);
    CHECK_EQ(tb_error(&f), FW_E_BASE_MISMATCH);
    CHECK(fw_dec_error_msg(f.payload, f.length, &err) == FW_OK && err.detail == 1);
    CHECK_EQ(err_of(data(0, v->stream, 10)), FW_E_NO_UPLOAD); /* errors leave no stream open */
    CHECK_EQ(stream_offset(open_stream(FW_NO_SLOT, NULL, 0)), 0);
    CHECK_EQ(err_of(data(0, v->stream, 0)), FW_E_BAD_PAYLOAD); /* empty data */
}

/* A port without encoded uploads answers as older firmware; DEFLATE without DELTA takes no base. */
static void test_port_without_encodings(void)
{
    const stream_vector *v = vec("compress_sine");
    tb_boot(&B, 0, FW_BOOT_POWER_ON);
    tb_begin(&B, 0, v->model, v->size, "sine");
    B.cfg.encodings = 0;
    uint8_t hello[3] = {1, 0x00, 0x10};
    fw_frame f = tb_call(&B, FW_T_HELLO, hello, 3);
    fw_info info;
    CHECK(fw_dec_info(f.payload, f.length, &info) == FW_OK);
    CHECK_EQ(info.capabilities & (FW_CAP_DEFLATE | FW_CAP_DELTA), 0);
    CHECK_EQ(err_of(open_stream(FW_NO_SLOT, NULL, 0)), FW_E_UNKNOWN_TYPE);
    CHECK_EQ(err_of(data(0, v->stream, 10)), FW_E_UNKNOWN_TYPE);
    B.cfg.encodings = FW_CAP_DELTA; /* DELTA alone means nothing */
    f = tb_call(&B, FW_T_HELLO, hello, 3);
    CHECK(fw_dec_info(f.payload, f.length, &info) == FW_OK);
    CHECK_EQ(info.capabilities & (FW_CAP_DEFLATE | FW_CAP_DELTA), 0);
    B.cfg.encodings = FW_CAP_DEFLATE;
    f = tb_call(&B, FW_T_HELLO, hello, 3);
    CHECK(fw_dec_info(f.payload, f.length, &info) == FW_OK);
    CHECK_EQ(info.capabilities & (FW_CAP_DEFLATE | FW_CAP_DELTA), FW_CAP_DEFLATE);
    CHECK_EQ(err_of(open_stream(1, v->model, v->size)), FW_E_BAD_PAYLOAD);
    CHECK_EQ(stream_offset(open_stream(FW_NO_SLOT, NULL, 0)), 0);
    B.cfg.encodings = FW_CAP_DEFLATE | FW_CAP_DELTA;
}

static void test_compressed_upload(void)
{
    const stream_vector *v = vec("compress_gesture");
    tb_boot(&B, 0, FW_BOOT_POWER_ON);
    CHECK_EQ(err_of(tb_begin(&B, 0, v->model, v->size, "gesture")), 0);
    CHECK_EQ(stream_offset(open_stream(FW_NO_SLOT, NULL, 0)), 0);
    fw_data_ack a = send_stream(v->stream, 0, 500, 250);
    /* Go-back-N: a gap is dropped, a retransmission decodes nothing; both answer the same. */
    fw_data_ack gap = ack_of(data(900, v->stream + 900, 100));
    fw_data_ack again = ack_of(data(250, v->stream + 250, 250));
    CHECK_EQ(gap.next_offset, 500);
    CHECK_EQ(again.next_offset, 500);
    CHECK_EQ(gap.received, a.received);
    a = send_stream(v->stream, 500, v->stream_len, 333);
    CHECK_EQ(a.received, v->size);
    CHECK(memcmp(B.store.slot[0], v->model, v->size) == 0);
    commit_ok(0);
    fw_frame f = tb_call(&B, FW_T_MODEL_ACTIVATE, (const uint8_t[]){0, FW_ACTIVATE_TEST}, 2);
    CHECK_EQ(tb_error(&f), 0);
    CHECK(B.running);
}

/* Unplugged mid-stream: the slot keeps the complete blocks; the host resumes at received. */
static void test_resume_after_reset(void)
{
    const stream_vector *v = vec("compress_gesture"), *rest = vec("resume_gesture_3072");
    tb_boot(&B, 0, FW_BOOT_POWER_ON);
    tb_begin(&B, 0, v->model, v->size, "gesture");
    stream_offset(open_stream(FW_NO_SLOT, NULL, 0));
    fw_data_ack a = {0, 0};
    for (uint32_t off = 0; a.received < rest->start; off += 100)
        a = ack_of(data(off, v->stream + off, 100));
    CHECK_EQ(a.received, rest->start); /* 1 KiB blocks: the ack shows each block's end */
    tb_boot(&B, 1, FW_BOOT_POWER_ON);
    CHECK_EQ(err_of(data(a.next_offset, v->stream + a.next_offset, 10)), FW_E_NO_UPLOAD);
    fw_frame f = tb_begin(&B, 0, v->model, v->size, "gesture");
    fw_begin_ack begin;
    CHECK(fw_dec_begin_ack(f.payload, f.length, &begin) == FW_OK);
    CHECK_EQ(begin.offset, rest->start);
    CHECK_EQ(stream_offset(open_stream(FW_NO_SLOT, NULL, 0)), rest->start);
    a = send_stream(rest->stream, 0, rest->stream_len, 400);
    CHECK_EQ(a.received, v->size);
    commit_ok(0);
}

static void test_delta_upload(void)
{
    const stream_vector *v = vec("delta_sine");
    tb_boot(&B, 0, FW_BOOT_POWER_ON);
    plain_upload(1, v->base, v->base_size);
    CHECK_EQ(err_of(tb_begin(&B, 0, v->model, v->size, "sine2")), 0);
    fw_frame f = open_stream(1, v->model, v->size); /* the host assumed another base */
    CHECK_EQ(tb_error(&f), FW_E_BASE_MISMATCH);
    CHECK_EQ(stream_offset(open_stream(1, v->base, v->base_size)), 0);
    fw_data_ack a = send_stream(v->stream, 0, v->stream_len, 50);
    CHECK_EQ(a.received, v->size);
    commit_ok(0);
    /* A COPY in a stream opened without a base is a decode error. */
    const stream_vector *resume = vec("delta_resume");
    CHECK_EQ(err_of(tb_begin(&B, 0, resume->model, 10, "cut")), 0); /* another model: erased */
    stream_offset(open_stream(FW_NO_SLOT, NULL, 0));
    CHECK_EQ(err_of(data(0, (const uint8_t[]){2, 5, 0, 0, 0, 0, 0}, 7)), FW_E_DECODE_FAILED);
}

/* A corrupt stream: DECODE_FAILED at the failing block, the stream closed, the complete
 * blocks kept, and the model that ran before still running. */
static void test_decode_error_keeps_old_model(void)
{
    const stream_vector *base = vec("compress_sine"), *v = vec("error_second_block");
    tb_boot(&B, 0, FW_BOOT_POWER_ON);
    plain_upload(1, base->model, base->size);
    fw_frame f = tb_call(&B, FW_T_MODEL_ACTIVATE, (const uint8_t[]){1, FW_ACTIVATE_PERMANENT}, 2);
    CHECK_EQ(tb_error(&f), 0);
    CHECK_EQ(err_of(tb_begin(&B, 0, v->model, v->size, "text")), 0);
    stream_offset(open_stream(FW_NO_SLOT, NULL, 0));
    f = data(0, v->stream, v->stream_len);
    fw_error_msg err;
    CHECK_EQ(tb_error(&f), FW_E_DECODE_FAILED);
    CHECK(fw_dec_error_msg(f.payload, f.length, &err) == FW_OK);
    CHECK_EQ(err.detail, v->failed_at);
    CHECK(err.text.len > 0);
    CHECK_EQ(slot_info(0).received, v->failed_at);
    CHECK_EQ(slot_info(1).state, FW_SLOT_ACTIVE);
    CHECK(B.running);
    CHECK_EQ(err_of(data(v->stream_len, v->stream, 1)), FW_E_NO_UPLOAD); /* closed */
    f = tb_call(&B, FW_T_MODEL_COMMIT, (const uint8_t[]){0}, 1);
    CHECK_EQ(tb_error(&f), FW_E_INCOMPLETE);
    /* The host opens a new stream where the good blocks end, or goes on with plain chunks. */
    CHECK_EQ(stream_offset(open_stream(FW_NO_SLOT, NULL, 0)), v->failed_at);
    uint32_t at = (uint32_t)v->failed_at;
    CHECK_EQ(err_of(tb_at(&B, FW_T_MODEL_CHUNK, at, v->model + at, v->size - at)), 0);
    CHECK_EQ(err_of(data(0, v->stream, 1)), FW_E_NO_UPLOAD); /* the chunk closed the stream */
    commit_ok(0);
}

static void test_storage_failure(void)
{
    const stream_vector *v = vec("compress_sine");
    tb_boot(&B, 0, FW_BOOT_POWER_ON);
    tb_begin(&B, 0, v->model, v->size, "sine");
    stream_offset(open_stream(FW_NO_SLOT, NULL, 0));
    B.store.fail_writes = 1;
    CHECK_EQ(err_of(data(0, v->stream, 500)), FW_E_STORAGE);
    B.store.fail_writes = 0;
    CHECK_EQ(err_of(data(0, v->stream, 1)), FW_E_NO_UPLOAD);
}

int main(void)
{
    test_refusals();
    test_port_without_encodings();
    test_compressed_upload();
    test_resume_after_reset();
    test_delta_upload();
    test_decode_error_keeps_old_model();
    test_storage_failure();
    return check_done("upload_stream");
}
