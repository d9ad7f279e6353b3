#include "fw_msg.h"

#include <string.h>

static fw_cur reader(const uint8_t *p, size_t n)
{
    /* Readers never write through the cursor; the cast only shares the type. */
    return fw_cur_make((uint8_t *)(uintptr_t)p, n);
}

int fw_dec_hello(const uint8_t *p, size_t n, fw_hello *m)
{
    fw_cur c = reader(p, n);
    m->host_version = (uint8_t)fw_get_le(&c, 1);
    m->host_max_payload = (uint16_t)fw_get_le(&c, 2);
    return fw_cur_done(&c);
}

int fw_dec_stream_config(const uint8_t *p, size_t n, fw_stream_config *m)
{
    fw_cur c = reader(p, n);
    m->streams = (uint8_t)fw_get_le(&c, 1);
    m->log_level = (uint8_t)fw_get_le(&c, 1);
    m->result_interval_ms = (uint16_t)fw_get_le(&c, 2);
    m->power_interval_ms = (uint16_t)fw_get_le(&c, 2);
    m->top_k = (uint8_t)fw_get_le(&c, 1);
    return fw_cur_done(&c);
}

int fw_dec_u8(const uint8_t *p, size_t n, uint8_t *v)
{
    if (n != 1)
        return 0;
    *v = p[0];
    return 1;
}

int fw_dec_model_begin(const uint8_t *p, size_t n, fw_model_begin *m)
{
    fw_cur c = reader(p, n);
    m->slot = (uint8_t)fw_get_le(&c, 1);
    m->size = fw_get_le(&c, 4);
    fw_get_bytes(&c, m->sha256, FW_SHA_SIZE);
    fw_get_str8(&c, &m->name.len, m->name.s, FW_MAX_NAME, 1);
    fw_get_str8(&c, &m->version.len, m->version.s, FW_MAX_NAME, 1);
    return fw_cur_done(&c);
}

int fw_dec_model_chunk(const uint8_t *p, size_t n, fw_model_chunk *m)
{
    fw_cur c = reader(p, n);
    m->offset = fw_get_le(&c, 4);
    m->data.data = p + c.pos;
    m->data.len = n - c.pos;
    return !c.bad;
}

int fw_dec_model_activate(const uint8_t *p, size_t n, fw_model_activate *m)
{
    fw_cur c = reader(p, n);
    m->slot = (uint8_t)fw_get_le(&c, 1);
    m->mode = (uint8_t)fw_get_le(&c, 1);
    return fw_cur_done(&c);
}

int fw_dec_model_stream(const uint8_t *p, size_t n, fw_model_stream *m)
{
    fw_cur c = reader(p, n);
    m->encoding = (uint8_t)fw_get_le(&c, 1);
    m->base_slot = (uint8_t)fw_get_le(&c, 1);
    fw_get_bytes(&c, m->base_sha256, FW_SHA_SIZE);
    return fw_cur_done(&c);
}

void fw_enc_slot_info(fw_cur *c, const fw_slot_info *s)
{
    fw_put_le(c, s->state, 1);
    fw_put_le(c, s->size, 4);
    fw_put_le(c, s->received, 4);
    fw_put_bytes(c, s->sha256, FW_SHA_SIZE);
    fw_put_str8(c, s->name.len, s->name.s);
    fw_put_str8(c, s->version.len, s->version.s);
}

void fw_enc_info(fw_cur *c, const fw_info *m)
{
    fw_put_le(c, m->proto_version, 1);
    fw_put_le(c, m->active_slot, 1);
    fw_put_le(c, m->max_payload, 2);
    fw_put_le(c, m->capabilities, 4);
    fw_put_le(c, m->rx_window, 4);
    fw_put_le(c, m->arena_bytes, 4);
    fw_put_le(c, m->slot_bytes, 4);
    fw_put_le(c, m->cpu_hz, 4);
    fw_put_str8(c, m->uid_len, m->uid);
    fw_put_str8(c, m->board_kind.len, m->board_kind.s);
    fw_put_str8(c, m->firmware_version.len, m->firmware_version.s);
    fw_enc_slot_info(c, &m->slots[0]);
    fw_enc_slot_info(c, &m->slots[1]);
}

void fw_enc_pong(fw_cur *c, const fw_pong *m)
{
    fw_put_u64(c, m->device_time_us);
    fw_put_bytes(c, m->data.data, m->data.len);
}

void fw_enc_stream_config(fw_cur *c, const fw_stream_config *m)
{
    fw_put_le(c, m->streams, 1);
    fw_put_le(c, m->log_level, 1);
    fw_put_le(c, m->result_interval_ms, 2);
    fw_put_le(c, m->power_interval_ms, 2);
    fw_put_le(c, m->top_k, 1);
}

void fw_enc_begin_ack(fw_cur *c, const fw_begin_ack *m)
{
    fw_put_le(c, m->slot, 1);
    fw_put_le(c, m->offset, 4);
}

void fw_enc_commit_ack(fw_cur *c, const fw_commit_ack *m)
{
    fw_put_le(c, m->slot, 1);
    fw_put_le(c, m->arena_used, 4);
}

void fw_enc_data_ack(fw_cur *c, const fw_data_ack *m)
{
    fw_put_le(c, m->next_offset, 4);
    fw_put_le(c, m->received, 4);
}

void fw_enc_slot_status(fw_cur *c, const fw_slot_status *m)
{
    fw_put_le(c, m->active_slot, 1);
    fw_enc_slot_info(c, &m->slots[0]);
    fw_enc_slot_info(c, &m->slots[1]);
}

void fw_enc_infer_result(fw_cur *c, const fw_infer_result *m)
{
    uint32_t scale_bits;
    memcpy(&scale_bits, &m->scale, 4); /* f32 travels as its IEEE-754 bits */
    fw_put_u64(c, m->device_time_us);
    fw_put_le(c, m->latency_us, 4);
    fw_put_le(c, m->inference_count, 4);
    fw_put_le(c, m->input_id, 4);
    fw_put_bytes(c, m->model_prefix, 4);
    fw_put_le(c, m->dtype, 1);
    fw_put_le(c, m->format, 1);
    fw_put_le(c, scale_bits, 4);
    fw_put_le(c, (uint32_t)m->zero_point, 4);
    fw_put_bytes(c, m->data.data, m->data.len);
}

void fw_enc_power(fw_cur *c, const fw_power_sample *m)
{
    fw_put_u64(c, m->device_time_us);
    fw_put_le(c, m->voltage_mv, 2);
    fw_put_le(c, m->current_ua, 4);
    fw_put_u64(c, m->energy_uj);
}

void fw_enc_log(fw_cur *c, const fw_log *m)
{
    fw_put_u64(c, m->device_time_us);
    fw_put_le(c, m->level, 1);
    fw_put_bytes(c, m->text.data, m->text.len);
}

void fw_enc_boot(fw_cur *c, const fw_boot *m)
{
    fw_put_le(c, m->reason, 1);
    fw_put_le(c, m->boot_count, 4);
}

void fw_enc_error(fw_cur *c, const fw_error_msg *m)
{
    fw_put_le(c, m->code, 2);
    fw_put_le(c, m->detail, 4);
    fw_put_bytes(c, m->text.data, m->text.len);
}

/* A C string as str8, `min`..`max` bytes; anything else marks the cursor bad. */
static void put_cstr8(fw_cur *c, const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        c->bad = 1;
    fw_put_str8(c, (uint8_t)n, (const uint8_t *)s);
}

void fw_enc_runtime(fw_cur *c, const fw_op_list *m)
{
    put_cstr8(c, m->runtime, 0, FW_MAX_NAME);
    fw_put_le(c, m->n_builtins, 2);
    for (uint16_t i = 0; i < m->n_builtins; i++)
        fw_put_le(c, m->builtins[i], 2);
    fw_put_le(c, m->n_customs, 1);
    for (uint8_t i = 0; i < m->n_customs; i++)
        put_cstr8(c, m->customs[i], 1, FW_MAX_OP_NAME);
}
