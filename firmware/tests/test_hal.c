#include "test_hal.h"

#include <stdlib.h>
#include <string.h>

#include "fw_host_codec.h"
#include "fw_sha256.h"

static int st_load(void *ctx, fw_persist *p)
{
    tb_store *s = ctx;
    if (!s->has_saved)
        return 1;
    *p = s->saved;
    return 0;
}

static int st_save(void *ctx, const fw_persist *p)
{
    tb_store *s = ctx;
    if (s->fail_writes)
        return -1;
    s->saved = *p;
    s->has_saved = 1;
    return 0;
}

static int st_erase(void *ctx, uint8_t slot)
{
    tb_store *s = ctx;
    memset(s->slot[slot], 0xFF, TB_SLOT_BYTES);
    return s->fail_writes ? -1 : 0;
}

static int st_write(void *ctx, uint8_t slot, uint32_t off, const uint8_t *p, uint32_t n)
{
    tb_store *s = ctx;
    if (s->fail_writes)
        return -1;
    const fw_slot_info *info = &s->guard->p.slot[slot].info;
    if (slot != s->guard->upload || off < info->received || off > info->size || n > info->size - off)
        abort(); /* the board wrote where no upload may: below received, past size, another slot */
    memcpy(s->slot[slot] + off, p, n);
    return 0;
}

static const uint8_t *st_map(void *ctx, uint8_t slot) { return ((tb_store *)ctx)->slot[slot]; }

static uint64_t clk_now(void *ctx) { return ((test_board *)ctx)->now; }

static void uart_write(void *ctx, const uint8_t *p, size_t n)
{
    test_board *b = ctx;
    if (n > TB_OUT_BYTES - b->out_len)
        n = TB_OUT_BYTES - b->out_len; /* a full line drops bytes, like a UART */
    memcpy(b->out + b->out_len, p, n);
    b->out_len += n;
}

static void power_read(void *ctx, int running, uint16_t *mv, uint32_t *ua)
{
    (void)ctx;
    *mv = 3300;
    *ua = running ? 6000 : 2000;
}

static fw_err rn_check(void *ctx, const uint8_t *model, uint32_t size, uint32_t *arena, char why[FW_WHY_SIZE])
{
    (void)ctx;
    (void)size;
    *arena = 100;
    switch (model[0]) {
    case 'O':
        strcpy(why, "FAKE_OP");
        return FW_E_OP_UNSUPPORTED;
    case 'A':
        *arena = 999999;
        return FW_E_ARENA_TOO_SMALL;
    case 'X':
        return FW_E_MODEL_INVALID;
    default:
        return FW_OK;
    }
}

static fw_err rn_start(void *ctx, const uint8_t *model, uint32_t size)
{
    uint32_t arena;
    char why[FW_WHY_SIZE];
    fw_err e = rn_check(ctx, model, size, &arena, why);
    ((test_board *)ctx)->running = e == FW_OK;
    return e;
}

static void rn_stop(void *ctx) { ((test_board *)ctx)->running = 0; }

static fw_err rn_invoke(void *ctx, uint32_t id, fw_output *out)
{
    test_board *b = ctx;
    for (int i = 0; i < 4; i++)
        b->result[i] = (uint8_t)(id + (uint32_t)i);
    out->dtype = 9;
    out->scale = 0.5f;
    out->zero_point = -3;
    out->data = b->result;
    out->bytes = 4;
    b->now += 7; /* the invoke takes 7 us */
    return FW_OK;
}

static const uint8_t k_uid[] = {0xE4, 0xB2, 0xC1, 0xD0};
static const uint16_t k_builtins[] = {9, 3}; /* FULLY_CONNECTED, CONV_2D */
static const char *const k_customs[] = {"FleetTestOp"};
static const fw_op_list k_ops = {"test-runner 1", k_builtins, 2, k_customs, 1};

void tb_boot(test_board *b, int keep_store, uint8_t reason)
{
    if (!keep_store)
        memset(&b->store, 0, sizeof b->store);
    b->out_len = b->out_read = 0;
    b->running = 0;
    fw_rx_init(&b->host_rx, b->host_rx_buf, 4096);
    fw_hal hal = {
        {b, uart_write},
        {b, clk_now},
        {&b->store, TB_SLOT_BYTES, st_load, st_save, st_erase, st_write, st_map},
        {b, power_read},
        {b, 4096, rn_check, rn_start, rn_stop, rn_invoke, &k_ops},
        b->sensor,
        b->marker,
    };
    fw_config cfg = {k_uid, sizeof k_uid, "testboard", "fleet-fw test", 1000000, TB_MAX_PAYLOAD, 2048, 10000, 10,
                     FW_CAP_DEFLATE | FW_CAP_DELTA};
    b->hal = hal;
    b->store.guard = &b->dev.slots;
    b->cfg = cfg;
    fw_device_init(&b->dev, &b->cfg, &b->hal, b->rx, b->tx);
    fw_device_boot(&b->dev, reason);
}

typedef struct {
    uint8_t *p;
    size_t len;
} sink;

static void to_sink(void *ctx, const uint8_t *p, size_t n)
{
    sink *s = ctx;
    memcpy(s->p + s->len, p, n);
    s->len += n;
}

void tb_send(test_board *b, uint8_t type, uint16_t seq, const uint8_t *payload, size_t n)
{
    static uint8_t body[FW_TX_BUF_SIZE(4096)];
    static uint8_t wire[FW_RX_BUF_SIZE(4096) + 1];
    sink s = {wire, 0};
    if (n)
        memcpy(body + FW_HDR_SIZE, payload, n);
    fw_frame_send(body, type, 0, seq, (uint16_t)n, to_sink, &s);
    fw_device_input(&b->dev, wire, s.len);
}

int tb_next(test_board *b, fw_frame *f)
{
    while (b->out_read < b->out_len)
        if (fw_rx_byte(&b->host_rx, b->out[b->out_read++], f))
            return 1;
    return 0;
}

fw_frame tb_call(test_board *b, uint8_t type, const uint8_t *payload, size_t n)
{
    static uint16_t seq = 100;
    fw_frame f;
    memset(&f, 0, sizeof f);
    tb_send(b, type, ++seq, payload, n);
    while (tb_next(b, &f))
        if ((f.flags & FW_FLAG_RESPONSE) && f.seq == seq)
            return f;
    memset(&f, 0, sizeof f); /* no response: type 0 tells the test */
    return f;
}

int tb_error(const fw_frame *f)
{
    fw_error_msg e;
    if (!(f->flags & FW_FLAG_ERROR))
        return 0;
    return fw_dec_error_msg(f->payload, f->length, &e) == FW_OK ? e.code : -1;
}

void byte_sink_put(void *ctx, const uint8_t *p, size_t n)
{
    byte_sink *s = ctx;
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

fw_frame tb_begin(test_board *b, uint8_t slot, const uint8_t *model, uint32_t size, const char *name)
{
    uint8_t buf[128];
    fw_model_begin m;
    memset(&m, 0, sizeof m);
    m.slot = slot;
    m.size = size;
    if (model)
        tb_sha256(model, size, m.sha256);
    m.name.len = (uint8_t)strlen(name);
    memcpy(m.name.s, name, m.name.len);
    fw_cur c = fw_cur_make(buf, sizeof buf);
    fw_enc_model_begin(&c, &m);
    return tb_call(b, FW_T_MODEL_BEGIN, buf, c.pos);
}

void tb_sha256(const uint8_t *p, uint32_t n, uint8_t out[FW_SHA256_SIZE])
{
    fw_sha256 h;
    fw_sha256_init(&h);
    fw_sha256_update(&h, p, n);
    fw_sha256_final(&h, out);
}

fw_frame tb_at(test_board *b, uint8_t type, uint32_t offset, const uint8_t *data, size_t n)
{
    uint8_t buf[TB_MAX_PAYLOAD];
    fw_model_chunk m = {offset, {data, n}};
    fw_cur c = fw_cur_make(buf, sizeof buf);
    fw_enc_model_chunk(&c, &m);
    return tb_call(b, type, buf, c.pos);
}

void tb_run_model(test_board *b)
{
    static const uint8_t model[] = "MODEL";
    uint8_t p[2] = {0, FW_ACTIVATE_PERMANENT};
    tb_begin(b, 0, model, sizeof model, "");
    tb_at(b, FW_T_MODEL_CHUNK, 0, model, sizeof model);
    tb_call(b, FW_T_MODEL_COMMIT, p, 1);
    tb_call(b, FW_T_MODEL_ACTIVATE, p, 2);
}
