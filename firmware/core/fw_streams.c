#include "fw_streams.h"

#include <string.h>

#define IDLE_WAIT_US 100000u /* nothing scheduled: look again after this long */

static uint64_t now_us(const fw_streams *st) { return st->hal->clock.now_us(st->hal->clock.ctx); }

void fw_streams_init(fw_streams *st, const fw_hal *hal, uint32_t infer_period_us, fw_event_sink sink)
{
    memset(st, 0, sizeof *st); /* after boot every stream is off */
    st->hal = hal;
    st->sink = sink;
    st->infer_period_us = infer_period_us;
    st->cfg.log_level = FW_LOG_INFO;
    st->next_infer_us = now_us(st);
    st->last_energy_us = st->next_infer_us;
}

void fw_streams_start_sensor(fw_streams *st)
{
    const fw_power_sensor *sensor = &st->hal->sensor;
    uint32_t us = 0;
    st->sensor_us = 0;
    st->sensor_have = 0;
    if (sensor->start && sensor->start(sensor->ctx, &us) == FW_SENSOR_OK)
        st->sensor_us = us ? us : 1u;
    st->sensor_err = FW_SENSOR_NOT_READY;
    st->next_sensor_us = 0;
}

void fw_streams_log(fw_streams *st, uint8_t level, const char *text)
{
    if (!(st->cfg.streams & FW_STREAM_LOG) || level < st->cfg.log_level)
        return;
    fw_log m = {now_us(st), level, {(const uint8_t *)text, strlen(text)}};
    fw_cur c = st->sink.payload(st->sink.ctx);
    fw_enc_log(&c, &m);
    st->sink.send(st->sink.ctx, FW_T_LOG, &c);
}

void fw_streams_configure(fw_streams *st, fw_stream_config *cfg, uint32_t capabilities, uint16_t min_power_ms)
{
    /* Stream bits map onto capability bits shifted by one. */
    cfg->streams &= (uint8_t)((capabilities >> 1) & (FW_STREAM_RESULTS | FW_STREAM_POWER | FW_STREAM_LOG));
    if (cfg->log_level > FW_LOG_ERROR)
        cfg->log_level = FW_LOG_ERROR;
    /* POWER no faster than the sensor gives fresh readings. */
    uint32_t sensor_ms = (st->sensor_us + 999u) / 1000u;
    if (sensor_ms > min_power_ms)
        min_power_ms = (uint16_t)(sensor_ms > 0xFFFFu ? 0xFFFFu : sensor_ms);
    if (cfg->power_interval_ms < min_power_ms)
        cfg->power_interval_ms = min_power_ms;
    if (cfg->top_k > FW_MAX_TOP_K)
        cfg->top_k = FW_MAX_TOP_K;
    st->cfg = *cfg;
    st->result_sent = 0;
    st->next_power_us = 0; /* first sample at once */
}

static uint32_t elem_size(uint8_t dtype)
{
    switch (dtype) {
    case 3: /* UINT8 */
    case 9: /* INT8 */
        return 1;
    case 7: /* INT16 */
        return 2;
    case 0: /* FLOAT32 */
    case 2: /* INT32 */
        return 4;
    default:
        return 0;
    }
}

static float elem(const fw_output *o, uint32_t i)
{
    const uint8_t *p = o->data + i * elem_size(o->dtype);
    switch (o->dtype) {
    case 3:
        return p[0];
    case 9:
        return (int8_t)p[0];
    case 7:
        return (int16_t)fw_rd16(p);
    case 2:
        return (float)(int32_t)fw_rd32(p);
    default: {
        float f;
        uint32_t bits = fw_rd32(p);
        memcpy(&f, &bits, 4);
        return f;
    }
    }
}

uint32_t fw_topk(const fw_output *out, uint8_t k, uint8_t *dst)
{
    uint32_t es = elem_size(out->dtype);
    uint32_t n = out->bytes / es, written = 0;
    float last = 0;
    uint32_t last_i = 0;
    /* k passes, each picking the best element ranked after the previous pick in the
     * order (value descending, index ascending): no scratch memory needed. */
    for (uint32_t j = 0; j < k && j < n; j++) {
        uint32_t best = n;
        float bv = 0;
        for (uint32_t i = 0; i < n; i++) {
            float v = elem(out, i);
            int after_last = j == 0 || v < last || (v == last && i > last_i);
            if (after_last && (best == n || v > bv)) {
                best = i;
                bv = v;
            }
        }
        if (best == n)
            break; /* NaN elements never rank */
        dst[written] = (uint8_t)best;
        dst[written + 1] = (uint8_t)(best >> 8);
        memcpy(dst + written + 2, out->data + best * es, es);
        written += 2 + es;
        last = bv;
        last_i = best;
    }
    return written;
}

static void send_result(fw_streams *st, const uint8_t *model, const fw_output *o, uint64_t t1, uint32_t latency)
{
    fw_infer_result m;
    fw_cur c = st->sink.payload(st->sink.ctx);
    size_t room = c.cap > FW_INFER_RESULT_HEAD ? c.cap - FW_INFER_RESULT_HEAD : 0;
    uint32_t es = elem_size(o->dtype);
    m.device_time_us = t1;
    m.latency_us = latency;
    m.inference_count = st->inferences;
    m.input_id = st->inferences - 1;
    memcpy(m.model_prefix, model, FW_MODEL_PREFIX_SIZE);
    m.dtype = o->dtype;
    m.scale = o->scale;
    m.zero_point = o->zero_point;
    if (st->cfg.top_k && es) {
        uint32_t k = st->cfg.top_k;
        if (k * (2 + es) > room)
            k = (uint32_t)(room / (2 + es));
        m.format = FW_FORMAT_TOPK;
        m.data.data = c.p + FW_INFER_RESULT_HEAD; /* written in place below, after the header fields */
        m.data.len = 0;
        fw_enc_infer_result(&c, &m);
        c.pos += fw_topk(o, (uint8_t)k, c.p + c.pos);
    } else {
        /* A tensor larger than the frame is cut at the last whole element that fits. */
        size_t len = o->bytes < room ? o->bytes : room;
        if (es)
            len -= len % es;
        m.format = FW_FORMAT_RAW;
        m.data.data = o->data;
        m.data.len = len;
        fw_enc_infer_result(&c, &m);
    }
    st->sink.send(st->sink.ctx, FW_T_INFER_RESULT, &c);
}

static void infer(fw_streams *st, const uint8_t *model)
{
    const fw_runner *r = &st->hal->runner;
    fw_output out;
    const fw_marker *mk = &st->hal->marker;
    if (mk->set)
        mk->set(mk->ctx, 1);
    uint64_t t0 = now_us(st);
    fw_err e = r->invoke(r->ctx, st->inferences, &out);
    uint64_t t1 = now_us(st);
    if (mk->set)
        mk->set(mk->ctx, 0);
    st->inferences++;
    if (e != FW_OK) {
        fw_streams_log(st, FW_LOG_ERROR, "inference failed");
        return;
    }
    const fw_stream_config *cfg = &st->cfg;
    if ((cfg->streams & FW_STREAM_RESULTS) &&
        (!st->result_sent || t1 - st->last_result_us >= (uint64_t)cfg->result_interval_ms * 1000u)) {
        send_result(st, model, &out, t1, (uint32_t)(t1 - t0));
        st->last_result_us = t1;
        st->result_sent = 1;
    }
}

static const char *const k_sensor_text[] = {
    "power sensor: reading again", "power sensor: not ready", "power sensor: no answer (NACK)",
    "power sensor: bus error", "power sensor: wrong device", "power sensor: overflow", "power sensor: bad configuration",
};

/* A fresh reading once per conversion; a failure is logged when it starts and when it
 * ends, not at every read. */
static void read_sensor(fw_streams *st, uint64_t now)
{
    const fw_power_sensor *s = &st->hal->sensor;
    if (now < st->next_sensor_us)
        return;
    st->next_sensor_us = now + st->sensor_us;
    uint16_t mv;
    uint32_t ua;
    fw_sensor_err e = s->read(s->ctx, &mv, &ua);
    if (e == FW_SENSOR_OK) {
        st->sensor_mv = mv;
        st->sensor_ua = ua;
        st->sensor_have = 1;
    }
    int was_failing = st->sensor_err != FW_SENSOR_OK && st->sensor_err != FW_SENSOR_NOT_READY;
    if (e != st->sensor_err && e != FW_SENSOR_NOT_READY && (e != FW_SENSOR_OK || was_failing))
        fw_streams_log(st, e == FW_SENSOR_OK ? FW_LOG_INFO : FW_LOG_ERROR, k_sensor_text[e]);
    st->sensor_err = (uint8_t)e;
}

/* The supply now: the sensor's latest reading, or the model's. 0: the sensor has given
 * none yet. */
static int supply(fw_streams *st, int model_running, uint64_t now, uint16_t *mv, uint32_t *ua)
{
    if (!fw_streams_measured(st)) {
        const fw_power_meter *pm = &st->hal->power;
        pm->read(pm->ctx, model_running, mv, ua);
        return 1;
    }
    read_sensor(st, now);
    *mv = st->sensor_mv;
    *ua = st->sensor_ua;
    return st->sensor_have;
}

/* Energy since boot, in 32-bit steps: a microcontroller without a 64-bit divider
 * (and the ~700 bytes of library code it would pull in) integrates it exactly. Until a
 * sensor gives its first reading the time is not counted; while it fails, its last
 * reading is held. */
static void integrate_energy(fw_streams *st, int model_running, uint64_t now)
{
    uint16_t mv;
    uint32_t ua;
    if (!supply(st, model_running, now, &mv, &ua))
        mv = 0, ua = 0;
    uint32_t uw = mv * (ua / 1000u) + mv * (ua % 1000u) / 1000u;
    uint64_t dt = now - st->last_energy_us;
    st->last_energy_us = now;
    if (dt > 0xFFFFFFFFu - st->energy_us)
        dt = 0xFFFFFFFFu - st->energy_us; /* a gap over an hour between polls: cap it */
    uint32_t us = st->energy_us + (uint32_t)dt;
    uint32_t ms = us / 1000u;
    st->energy_us = us % 1000u;
    while (ms) { /* uW * ms = nJ; chunks small enough for 32 bits at up to 4 W */
        uint32_t step = ms < 1000u ? ms : 999u;
        uint32_t nj = uw * step;
        ms -= step;
        st->energy_uj += nj / 1000u;
        st->energy_nj += nj % 1000u;
        if (st->energy_nj >= 1000u) {
            st->energy_nj -= 1000u;
            st->energy_uj++;
        }
    }
}

/* POWER is never a stale or modelled figure under a sensor's name: while the sensor
 * fails (or has not converted yet) no sample goes out. Returns whether one did. */
static int send_power(fw_streams *st, int model_running, uint64_t now)
{
    fw_power m;
    if (!supply(st, model_running, now, &m.voltage_mv, &m.current_ua) ||
        (fw_streams_measured(st) && st->sensor_err != FW_SENSOR_OK))
        return 0;
    m.device_time_us = now;
    m.energy_uj = st->energy_uj;
    fw_cur c = st->sink.payload(st->sink.ctx);
    fw_enc_power(&c, &m);
    st->sink.send(st->sink.ctx, FW_T_POWER, &c);
    return 1;
}

uint32_t fw_streams_poll(fw_streams *st, const uint8_t *model)
{
    uint64_t now = now_us(st);
    uint64_t next = now + IDLE_WAIT_US;
    integrate_energy(st, model != NULL, now);
    if (model) {
        if (now >= st->next_infer_us) {
            infer(st, model);
            st->next_infer_us += st->infer_period_us;
            now = now_us(st);
            if (st->next_infer_us <= now) /* fell behind: skip, do not burst */
                st->next_infer_us = now + st->infer_period_us;
        }
        if (st->next_infer_us < next)
            next = st->next_infer_us;
    } else {
        st->next_infer_us = now; /* a model that starts later runs at once */
    }
    if (st->cfg.streams & FW_STREAM_POWER) {
        if (now >= st->next_power_us) {
            /* Without a reading, try again after the sensor's next conversion. */
            uint64_t wait = send_power(st, model != NULL, now) ? (uint64_t)st->cfg.power_interval_ms * 1000u : st->sensor_us;
            st->next_power_us = now + wait;
        }
        if (st->next_power_us < next)
            next = st->next_power_us;
    }
    if (fw_streams_measured(st) && st->next_sensor_us < next)
        next = st->next_sensor_us; /* integrate every conversion */
    return next > now ? (uint32_t)(next - now) : 0;
}
