#include "fw_msg_peer.h"

#include <string.h>

static fw_cur reader(const uint8_t *p, size_t n) { return fw_cur_make((uint8_t *)(uintptr_t)p, n); }

static fw_blob rest(const fw_cur *c)
{
    fw_blob b = {c->p + c->pos, c->bad ? 0 : c->cap - c->pos};
    return b;
}

void fw_enc_hello(fw_cur *c, const fw_hello *m)
{
    fw_put_le(c, m->host_version, 1);
    fw_put_le(c, m->host_max_payload, 2);
}

void fw_enc_model_begin(fw_cur *c, const fw_model_begin *m)
{
    fw_put_le(c, m->slot, 1);
    fw_put_le(c, m->size, 4);
    fw_put_bytes(c, m->sha256, FW_SHA_SIZE);
    fw_put_str8(c, m->name.len, m->name.s);
    fw_put_str8(c, m->version.len, m->version.s);
}

void fw_enc_model_chunk(fw_cur *c, const fw_model_chunk *m)
{
    fw_put_le(c, m->offset, 4);
    fw_put_bytes(c, m->data.data, m->data.len);
}

void fw_enc_model_activate(fw_cur *c, const fw_model_activate *m)
{
    fw_put_le(c, m->slot, 1);
    fw_put_le(c, m->mode, 1);
}

void fw_enc_model_stream(fw_cur *c, const fw_model_stream *m)
{
    fw_put_le(c, m->encoding, 1);
    fw_put_le(c, m->base_slot, 1);
    fw_put_bytes(c, m->base_sha256, FW_SHA_SIZE);
}

int fw_dec_slot_info(fw_cur *c, fw_slot_info *s)
{
    s->state = (uint8_t)fw_get_le(c, 1);
    s->size = fw_get_le(c, 4);
    s->received = fw_get_le(c, 4);
    fw_get_bytes(c, s->sha256, FW_SHA_SIZE);
    fw_get_str8(c, &s->name.len, s->name.s, FW_MAX_NAME, 1);
    fw_get_str8(c, &s->version.len, s->version.s, FW_MAX_NAME, 1);
    return !c->bad;
}

int fw_dec_info(const uint8_t *p, size_t n, fw_info *m)
{
    fw_cur c = reader(p, n);
    m->proto_version = (uint8_t)fw_get_le(&c, 1);
    m->active_slot = (uint8_t)fw_get_le(&c, 1);
    m->max_payload = (uint16_t)fw_get_le(&c, 2);
    m->capabilities = fw_get_le(&c, 4);
    m->rx_window = fw_get_le(&c, 4);
    m->arena_bytes = fw_get_le(&c, 4);
    m->slot_bytes = fw_get_le(&c, 4);
    m->cpu_hz = fw_get_le(&c, 4);
    fw_get_str8(&c, &m->uid_len, m->uid, FW_MAX_UID, 0);
    fw_get_str8(&c, &m->board_kind.len, m->board_kind.s, FW_MAX_NAME, 1);
    fw_get_str8(&c, &m->firmware_version.len, m->firmware_version.s, FW_MAX_NAME, 1);
    fw_dec_slot_info(&c, &m->slots[0]);
    fw_dec_slot_info(&c, &m->slots[1]);
    return fw_cur_done(&c);
}

int fw_dec_pong(const uint8_t *p, size_t n, fw_pong *m)
{
    fw_cur c = reader(p, n);
    m->device_time_us = fw_get_u64(&c);
    m->data = rest(&c);
    return !c.bad;
}

int fw_dec_begin_ack(const uint8_t *p, size_t n, fw_begin_ack *m)
{
    fw_cur c = reader(p, n);
    m->slot = (uint8_t)fw_get_le(&c, 1);
    m->offset = fw_get_le(&c, 4);
    return fw_cur_done(&c);
}

int fw_dec_u32(const uint8_t *p, size_t n, uint32_t *v)
{
    fw_cur c = reader(p, n);
    *v = fw_get_le(&c, 4);
    return fw_cur_done(&c);
}

int fw_dec_commit_ack(const uint8_t *p, size_t n, fw_commit_ack *m)
{
    fw_cur c = reader(p, n);
    m->slot = (uint8_t)fw_get_le(&c, 1);
    m->arena_used = fw_get_le(&c, 4);
    return fw_cur_done(&c);
}

int fw_dec_data_ack(const uint8_t *p, size_t n, fw_data_ack *m)
{
    fw_cur c = reader(p, n);
    m->next_offset = fw_get_le(&c, 4);
    m->received = fw_get_le(&c, 4);
    return fw_cur_done(&c);
}

int fw_dec_slot_status(const uint8_t *p, size_t n, fw_slot_status *m)
{
    fw_cur c = reader(p, n);
    m->active_slot = (uint8_t)fw_get_le(&c, 1);
    fw_dec_slot_info(&c, &m->slots[0]);
    fw_dec_slot_info(&c, &m->slots[1]);
    return fw_cur_done(&c);
}

int fw_dec_infer_result(const uint8_t *p, size_t n, fw_infer_result *m)
{
    fw_cur c = reader(p, n);
    m->device_time_us = fw_get_u64(&c);
    m->latency_us = fw_get_le(&c, 4);
    m->inference_count = fw_get_le(&c, 4);
    m->input_id = fw_get_le(&c, 4);
    fw_get_bytes(&c, m->model_prefix, 4);
    m->dtype = (uint8_t)fw_get_le(&c, 1);
    m->format = (uint8_t)fw_get_le(&c, 1);
    uint32_t bits = fw_get_le(&c, 4);
    memcpy(&m->scale, &bits, 4);
    m->zero_point = (int32_t)fw_get_le(&c, 4);
    m->data = rest(&c);
    return !c.bad;
}

int fw_dec_power(const uint8_t *p, size_t n, fw_power_sample *m)
{
    fw_cur c = reader(p, n);
    m->device_time_us = fw_get_u64(&c);
    m->voltage_mv = (uint16_t)fw_get_le(&c, 2);
    m->current_ua = fw_get_le(&c, 4);
    m->energy_uj = fw_get_u64(&c);
    return fw_cur_done(&c);
}

int fw_dec_log(const uint8_t *p, size_t n, fw_log *m)
{
    fw_cur c = reader(p, n);
    m->device_time_us = fw_get_u64(&c);
    m->level = (uint8_t)fw_get_le(&c, 1);
    m->text = rest(&c);
    return !c.bad;
}

int fw_dec_boot(const uint8_t *p, size_t n, fw_boot *m)
{
    fw_cur c = reader(p, n);
    m->reason = (uint8_t)fw_get_le(&c, 1);
    m->boot_count = fw_get_le(&c, 4);
    return fw_cur_done(&c);
}

int fw_dec_error(const uint8_t *p, size_t n, fw_error_msg *m)
{
    fw_cur c = reader(p, n);
    m->code = (uint16_t)fw_get_le(&c, 2);
    m->detail = fw_get_le(&c, 4);
    m->text = rest(&c);
    return !c.bad;
}

/* A str8 as a C string: refused when it holds a control character, C0 and DEL (NUL
 * among them: it could not be told apart) or C1 (U+0080..U+009F, UTF-8 C2 80..C2 9F). */
static int get_cstr8(fw_cur *c, char *dst, uint8_t max)
{
    uint8_t len;
    fw_get_str8(c, &len, (uint8_t *)dst, max, 1);
    dst[len] = 0;
    for (uint8_t i = 0; i < len; i++) {
        uint8_t b = (uint8_t)dst[i];
        if (b < 0x20 || b == 0x7F || (b == 0xC2 && (uint8_t)dst[i + 1] < 0xA0))
            return 0;
    }
    return !c->bad;
}

int fw_dec_runtime(const uint8_t *p, size_t n, fw_runtime_buf *buf, fw_op_list *m)
{
    fw_cur c = reader(p, n);
    memset(buf->seen, 0, sizeof buf->seen);
    if (!get_cstr8(&c, buf->runtime, FW_MAX_NAME))
        return 0;
    uint16_t nb = (uint16_t)fw_get_le(&c, 2);
    if (c.bad || (size_t)nb * 2 > c.cap - c.pos)
        return 0;
    for (uint16_t i = 0; i < nb; i++) {
        uint16_t code = (uint16_t)fw_get_le(&c, 2);
        if (code == FW_OP_CUSTOM || (buf->seen[code >> 3] & (1u << (code & 7))))
            return 0;
        buf->seen[code >> 3] |= (uint8_t)(1u << (code & 7));
        buf->builtins[i] = code;
    }
    uint8_t nc = (uint8_t)fw_get_le(&c, 1);
    for (uint8_t i = 0; i < nc; i++) {
        if (!get_cstr8(&c, buf->customs[i], FW_MAX_OP_NAME) || !buf->customs[i][0])
            return 0;
        for (uint8_t j = 0; j < i; j++)
            if (!strcmp(buf->customs[i], buf->customs[j]))
                return 0;
        buf->custom_ptr[i] = buf->customs[i];
    }
    m->runtime = buf->runtime;
    m->builtins = buf->builtins;
    m->n_builtins = nb;
    m->customs = buf->custom_ptr;
    m->n_customs = nc;
    return fw_cur_done(&c);
}
