#include "fw_device.h"

#include <string.h>

/* INFO and SLOT_STATUS are built as structs on the stack; kept out of line so their
 * few hundred bytes are not added to the dispatcher's frame on every request. */
#if defined(__GNUC__)
#define FW_NOINLINE __attribute__((noinline))
#else
#define FW_NOINLINE
#endif

static const uint32_t k_caps = FW_CAP_RESUME | FW_CAP_RESULTS | FW_CAP_POWER | FW_CAP_LOG | FW_CAP_REBOOT;

static uint32_t encodings(const fw_device *d)
{
    uint32_t e = d->cfg->encodings;
    return e & FW_CAP_DEFLATE ? e & (FW_CAP_DEFLATE | FW_CAP_DELTA) : 0; /* DELTA alone means nothing */
}

/* RUNTIME is declared only by a board whose runner says what it can run; POWER_SENSOR
 * only while POWER is measured (a sensor that answered at boot). */
static uint32_t capabilities(const fw_device *d)
{
    return k_caps | encodings(d) | (d->hal->runner.ops ? FW_CAP_RUNTIME : 0) |
           (fw_streams_measured(&d->streams) ? FW_CAP_POWER_SENSOR : 0);
}

/* Short texts for people, used when the failing layer gave no specific one: error code e's
 * is the e-th of these NUL-separated strings (one string, not a table of pointers: 84 B less). */
static const char k_text[] =
    "\0unsupported protocol version\0unknown request type\0payload does not match the layout"
    "\0busy\0bad slot\0no upload in progress\0chunk beyond the model size\0model does not fit a slot"
    "\0sha256 mismatch\0not a usable TFLite model\0unsupported operator\0tensor arena too small"
    "\0upload incomplete\0slot is not verified\0slot is not pending\0inference failed"
    "\0slot storage failed\0internal error\0base slot does not hold that model\0encoded stream broken";

static void put_str(fw_str *dst, const char *src)
{
    size_t n = strlen(src);
    dst->len = (uint8_t)(n > FW_MAX_NAME ? FW_MAX_NAME : n);
    memcpy(dst->s, src, dst->len);
}

/* Payload area of the transmit buffer and its capacity for the current host (the
 * device's side of the streams' event sink, as `ctx`). */
static fw_cur payload(void *ctx)
{
    const fw_device *d = ctx;
    uint16_t cap = d->cfg->max_payload < d->host_max ? d->cfg->max_payload : d->host_max;
    return fw_cur_make(d->tx + FW_HDR_SIZE, cap);
}

static void send(fw_device *d, uint8_t type, uint8_t flags, uint16_t seq, const fw_cur *c)
{
    fw_frame_send(d->tx, type, flags, seq, (uint16_t)c->pos, d->hal->uart.write, d->hal->uart.ctx);
}

/* Frame and send an event whose payload was written through payload(). */
static void send_event(void *ctx, uint8_t type, const fw_cur *c)
{
    fw_device *d = ctx;
    if (c->bad)
        return; /* an event that does not fit the host's limit is not sent */
    send(d, type, 0, d->event_seq++, c);
}

void fw_device_init(fw_device *d, const fw_config *cfg, const fw_hal *hal, uint8_t *rx_buf, uint8_t *tx_buf)
{
    memset(d, 0, sizeof *d);
    d->cfg = cfg;
    d->hal = hal;
    d->tx = tx_buf;
    d->host_max = cfg->max_payload; /* until a HELLO says otherwise */
    fw_rx_init(&d->rx, rx_buf, cfg->max_payload);
    fw_event_sink sink = {d, payload, send_event};
    fw_streams_init(&d->streams, hal, cfg->infer_period_us, sink);
    fw_streams_start_sensor(&d->streams);
}

void fw_device_boot(fw_device *d, uint8_t reason)
{
    fw_slots_boot(&d->slots, &d->hal->store, &d->hal->runner);
    fw_boot m = {reason, d->slots.p.boot_count};
    fw_cur c = payload(d);
    fw_enc_boot(&c, &m);
    send_event(d, FW_T_BOOT, &c);
}

static FW_NOINLINE void encode_info(fw_device *d, fw_cur *c)
{
    fw_info m;
    memset(&m, 0, sizeof m);
    m.proto_version = FW_PROTOCOL_VERSION;
    m.active_slot = d->slots.running;
    m.max_payload = d->cfg->max_payload;
    m.capabilities = capabilities(d);
    m.rx_window = d->cfg->rx_window;
    m.arena_bytes = d->hal->runner.arena_bytes;
    m.slot_bytes = d->hal->store.slot_bytes;
    m.cpu_hz = d->cfg->cpu_hz;
    m.uid.len = d->cfg->uid_len > FW_MAX_UID ? FW_MAX_UID : d->cfg->uid_len;
    memcpy(m.uid.s, d->cfg->uid, m.uid.len);
    put_str(&m.board_kind, d->cfg->board_kind);
    put_str(&m.firmware_version, d->cfg->firmware_version);
    for (uint8_t i = 0; i < FW_SLOTS; i++)
        m.slots[i] = d->slots.p.slot[i].info;
    fw_enc_info(c, &m);
}

static FW_NOINLINE void encode_status(fw_device *d, fw_cur *c, const char **log)
{
    fw_slot_status st;
    fw_slots_status(&d->slots, &st);
    fw_enc_slot_status(c, &st);
    *log = st.active_slot == FW_NO_SLOT ? "no model running" : "slots changed";
}

/* Handle one request; writes the response payload at *c or returns an error code. An INFO
 * line to log goes in *log: it is sent after the response, because a LOG event is encoded in
 * the same transmit buffer and would overwrite the response still waiting there. */
static fw_err dispatch(fw_device *d, const fw_frame *f, fw_cur *c, uint32_t *detail, char why[FW_WHY_SIZE],
                       const char **log)
{
    const uint8_t *p = f->payload;
    size_t n = f->length;
    union {
        fw_hello hello;
        fw_stream_config sc;
        fw_model_begin begin;
        fw_model_chunk chunk;
        fw_model_data data;
        fw_model_stream stream;
        fw_model_activate act;
        fw_reboot reboot;
        fw_model_commit commit;
        fw_model_confirm confirm;
    } m;
    fw_err e;
    uint32_t value;

    switch (f->type) {
    case FW_T_HELLO:
        if ((e = fw_dec_hello(p, n, &m.hello)) != FW_OK)
            return e;
        d->host_max = m.hello.host_max_payload;
        *c = payload(d);
        encode_info(d, c);
        return FW_OK;
    case FW_T_PING: {
        fw_pong pong = {d->hal->clock.now_us(d->hal->clock.ctx), {p, n}};
        fw_enc_pong(c, &pong);
        return c->bad ? FW_E_BAD_PAYLOAD : FW_OK; /* more than max_payload - 8 to echo */
    }
    case FW_T_STREAM_CONFIG:
        if ((e = fw_dec_stream_config(p, n, &m.sc)) != FW_OK)
            return e;
        fw_streams_configure(&d->streams, &m.sc, k_caps, d->cfg->min_power_interval_ms);
        fw_enc_stream_config(c, &m.sc);
        return FW_OK;
    case FW_T_REBOOT:
        if (fw_dec_reboot(p, n, &m.reboot) != FW_OK || m.reboot.mode != 0)
            return FW_E_BAD_PAYLOAD;
        d->reboot_requested = 1; /* after the (empty) response is sent */
        return FW_OK;
    case FW_T_RUNTIME:
        if (!d->hal->runner.ops)
            goto unknown; /* no RUNTIME capability: answered as older firmware does */
        if (n != 0)
            return FW_E_BAD_PAYLOAD;
        fw_enc_runtime(c, d->hal->runner.ops); /* a list too long for the host: INTERNAL */
        return FW_OK;
    case FW_T_MODEL_BEGIN:
        if ((e = fw_dec_model_begin(p, n, &m.begin)) != FW_OK)
            return e;
        e = fw_slots_begin(&d->slots, &m.begin, &value);
        if (e == FW_OK) {
            fw_begin_ack ack = {m.begin.slot, value};
            fw_enc_begin_ack(c, &ack);
        }
        break;
    case FW_T_MODEL_CHUNK:
        if (fw_dec_model_chunk(p, n, &m.chunk) != FW_OK || m.chunk.data.len == 0)
            return FW_E_BAD_PAYLOAD;
        e = fw_slots_chunk(&d->slots, m.chunk.offset, m.chunk.data.data, (uint32_t)m.chunk.data.len, &value);
        if (e == FW_OK) {
            fw_chunk_ack ack = {value};
            fw_enc_chunk_ack(c, &ack);
        }
        break;
    case FW_T_MODEL_STREAM:
        if (!(encodings(d) & FW_CAP_DEFLATE))
            goto unknown; /* answered as a board without the capability */
        if (fw_dec_model_stream(p, n, &m.stream) != FW_OK ||
            (m.stream.base_slot != FW_NO_SLOT && !(encodings(d) & FW_CAP_DELTA)))
            return FW_E_BAD_PAYLOAD;
        e = fw_slots_stream(&d->slots, &m.stream, &value);
        if (e == FW_OK) {
            fw_stream_ack ack = {value};
            fw_enc_stream_ack(c, &ack);
        }
        break;
    case FW_T_MODEL_DATA:
        if (!(encodings(d) & FW_CAP_DEFLATE))
            goto unknown;
        if (fw_dec_model_data(p, n, &m.data) != FW_OK || m.data.data.len == 0)
            return FW_E_BAD_PAYLOAD;
        {
            fw_data_ack ack;
            e = fw_slots_data(&d->slots, m.data.offset, m.data.data.data, (uint32_t)m.data.data.len, &ack, why);
            if (e == FW_OK)
                fw_enc_data_ack(c, &ack);
            value = ack.received; /* an error's detail: the failing block's offset */
        }
        break;
    case FW_T_MODEL_COMMIT:
        if ((e = fw_dec_model_commit(p, n, &m.commit)) != FW_OK)
            return e;
        e = fw_slots_commit(&d->slots, m.commit.slot, &value, why);
        if (e == FW_OK) {
            fw_commit_ack ack = {m.commit.slot, value};
            fw_enc_commit_ack(c, &ack);
            *log = "model verified";
        }
        break;
    case FW_T_MODEL_ACTIVATE:
        if ((e = fw_dec_model_activate(p, n, &m.act)) != FW_OK)
            return e;
        e = fw_slots_activate(&d->slots, m.act.slot, m.act.mode);
        goto status;
    case FW_T_MODEL_CONFIRM:
        if ((e = fw_dec_model_confirm(p, n, &m.confirm)) != FW_OK)
            return e;
        e = fw_slots_confirm(&d->slots, m.confirm.slot);
        goto status;
    case FW_T_MODEL_ROLLBACK:
        if (n != 0)
            return FW_E_BAD_PAYLOAD;
        e = fw_slots_rollback(&d->slots);
    status:
        if (e == FW_OK)
            encode_status(d, c, log);
        return e;
    default:
    unknown:
        *detail = f->type;
        return FW_E_UNKNOWN_TYPE;
    }
    if (e != FW_OK)
        *detail = value;
    return e;
}

static void handle(fw_device *d, const fw_frame *f)
{
    uint32_t detail = 0;
    char why[FW_WHY_SIZE];
    why[0] = 0; /* writers leave a C string: no need to zero all of it (8 B of code) */
    const char *log = NULL;
    fw_cur c = payload(d);
    fw_err e;
    if (f->version != FW_PROTOCOL_VERSION) {
        e = FW_E_UNSUPPORTED_VERSION;
        detail = FW_PROTOCOL_VERSION;
    } else if (f->flags & FW_FLAG_RESPONSE) {
        return; /* the host never answers the board: a stray frame, not a request */
    } else {
        e = dispatch(d, f, &c, &detail, why, &log);
        if (e == FW_OK && c.bad)
            e = FW_E_INTERNAL; /* the answer does not fit the host's max payload */
    }
    if (e == FW_OK) {
        send(d, f->type, FW_FLAG_RESPONSE, f->seq, &c);
        if (log)
            fw_device_log(d, FW_LOG_INFO, log);
        return;
    }
    const char *text = why;
    if (!text[0])
        for (unsigned i = (text = k_text, e); i; i--)
            text += strlen(text) + 1;
    fw_error_msg err = {(uint16_t)e, detail, {(const uint8_t *)text, strlen(text)}};
    c = payload(d);
    fw_enc_error_msg(&c, &err);
    send(d, f->type, FW_FLAG_RESPONSE | FW_FLAG_ERROR, f->seq, &c);
    if (e >= FW_E_HASH_MISMATCH && e <= FW_E_ARENA_TOO_SMALL)
        fw_device_log(d, FW_LOG_WARN, text);
}

void fw_device_input(fw_device *d, const uint8_t *p, size_t n)
{
    fw_frame f;
    /* Bytes after a REBOOT request are lost, as on a board that resets. */
    for (size_t i = 0; i < n && !d->reboot_requested; i++)
        if (fw_rx_byte(&d->rx, p[i], &f))
            handle(d, &f);
}

uint32_t fw_device_poll(fw_device *d)
{
    uint8_t running = d->slots.running;
    return fw_streams_poll(&d->streams, running == FW_NO_SLOT ? NULL : d->slots.p.slot[running].info.sha256);
}
