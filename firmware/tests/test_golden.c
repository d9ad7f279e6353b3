/* The golden vectors (tests/golden/frames.json, written by the Python reference; every
 * message type, the encoded-upload ones included):
 * every valid frame is decoded by the C codec, its fields compared with Python's, and
 * re-encoded to the same bytes; every invalid one is refused as the spec says, and
 * the requests among them get the right error response from a board. */
#include <stdarg.h>
#include <string.h>

#include "check.h"
#include "fw_host_codec.h"
#include "test_hal.h"

typedef struct {
    const char *name, *cls;
    uint8_t type, flags;
    uint16_t seq;
    const char *hex, *fields;
} golden_frame;

typedef struct {
    const char *name, *hex, *error;
} golden_invalid;

#include "golden_vectors.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

/* A string builder for the canonical field line: "key=value" separated by spaces,
 * nested slots as [{...}|{...}]. */
static char g_line[4096];
static size_t g_len;
static int g_first; /* no separator before the next field */

static void out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_len += (size_t)vsnprintf(g_line + g_len, sizeof g_line - g_len, fmt, ap);
    va_end(ap);
}

static void key(const char *k)
{
    out("%s%s=", g_first ? "" : " ", k);
    g_first = 0;
}

static void hex(const char *k, const uint8_t *p, size_t n)
{
    key(k);
    for (size_t i = 0; i < n; i++)
        out("%02x", p[i]);
}

static void num(const char *k, unsigned long long v) { key(k), out("%llu", v); }
static void snum(const char *k, long long v) { key(k), out("%lld", v); }
static void text(const char *k, const uint8_t *p, size_t n) { key(k), out("%.*s", (int)n, (const char *)p); }

static void slots(const fw_slot_info s[2])
{
    key("slots");
    out("[");
    for (int i = 0; i < 2; i++) {
        out("%s{", i ? "|" : "");
        g_first = 1;
        num("state", s[i].state);
        num("size", s[i].size);
        num("received", s[i].received);
        hex("sha256", s[i].sha256, 32);
        text("name", s[i].name.s, s[i].name.len);
        text("version", s[i].version.s, s[i].version.len);
        out("}");
    }
    out("]");
}

/* Decode the payload as `cls`, print its fields, and re-encode it at c. */
static int decode_encode(const char *cls, const uint8_t *p, size_t n, fw_cur *c)
{
    if (!strcmp(cls, "Hello")) {
        fw_hello m;
        if (fw_dec_hello(p, n, &m) != FW_OK)
            return 0;
        num("host_version", m.host_version), num("host_max_payload", m.host_max_payload);
        fw_enc_hello(c, &m);
    } else if (!strcmp(cls, "Info")) {
        fw_info m;
        if (fw_dec_info(p, n, &m) != FW_OK)
            return 0;
        num("proto_version", m.proto_version), num("active_slot", m.active_slot);
        num("max_payload", m.max_payload), num("capabilities", m.capabilities), num("rx_window", m.rx_window);
        num("arena_bytes", m.arena_bytes), num("slot_bytes", m.slot_bytes), num("cpu_hz", m.cpu_hz);
        hex("uid", m.uid.s, m.uid.len);
        text("board_kind", m.board_kind.s, m.board_kind.len);
        text("firmware_version", m.firmware_version.s, m.firmware_version.len);
        slots(m.slots);
        fw_enc_info(c, &m);
    } else if (!strcmp(cls, "Ping")) {
        fw_ping m;
        if (fw_dec_ping(p, n, &m) != FW_OK)
            return 0;
        hex("data", m.data.data, m.data.len);
        fw_enc_ping(c, &m);
    } else if (!strcmp(cls, "Pong")) {
        fw_pong m;
        if (fw_dec_pong(p, n, &m) != FW_OK)
            return 0;
        num("device_time_us", m.device_time_us), hex("data", m.data.data, m.data.len);
        fw_enc_pong(c, &m);
    } else if (!strcmp(cls, "StreamConfig") || !strcmp(cls, "StreamConfigAck")) {
        fw_stream_config m;
        if (fw_dec_stream_config(p, n, &m) != FW_OK)
            return 0;
        num("streams", m.streams), num("log_level", m.log_level), num("result_interval_ms", m.result_interval_ms);
        num("power_interval_ms", m.power_interval_ms), num("top_k", m.top_k);
        fw_enc_stream_config(c, &m);
    } else if (!strcmp(cls, "Reboot") || !strcmp(cls, "ModelCommit") || !strcmp(cls, "ModelConfirm")) {
        /* One u8 each: every one of the three tables reads into the same shape. */
        const fw_field *layout = cls[0] == 'R'                  ? fw_layout_reboot
                                 : !strcmp(cls, "ModelCommit") ? fw_layout_model_commit
                                                               : fw_layout_model_confirm;
        fw_model_commit m;
        if (fw_msg_decode(p, n, layout, &m) != FW_OK)
            return 0;
        num(cls[0] == 'R' ? "mode" : "slot", m.slot);
        fw_msg_encode(c, layout, &m);
    } else if (!strcmp(cls, "RebootAck") || !strcmp(cls, "ModelRollback") || !strcmp(cls, "Runtime")) {
        return n == 0;
    } else if (!strcmp(cls, "RuntimeInfo")) {
        static fw_runtime_buf buf;
        fw_op_list m;
        if (fw_dec_runtime(p, n, &buf, &m) != FW_OK)
            return 0;
        text("runtime", (const uint8_t *)m.runtime, strlen(m.runtime));
        key("builtins"), out("[");
        for (uint16_t i = 0; i < m.n_builtins; i++)
            out("%s%u", i ? "," : "", m.builtins[i]);
        out("]"), key("customs"), out("[");
        for (uint8_t i = 0; i < m.n_customs; i++)
            out("%s%s", i ? "," : "", m.customs[i]);
        out("]");
        fw_enc_runtime(c, &m);
    } else if (!strcmp(cls, "ModelBegin")) {
        fw_model_begin m;
        if (fw_dec_model_begin(p, n, &m) != FW_OK)
            return 0;
        num("slot", m.slot), num("size", m.size), hex("sha256", m.sha256, 32);
        text("name", m.name.s, m.name.len), text("version", m.version.s, m.version.len);
        fw_enc_model_begin(c, &m);
    } else if (!strcmp(cls, "BeginAck")) {
        fw_begin_ack m;
        if (fw_dec_begin_ack(p, n, &m) != FW_OK)
            return 0;
        num("slot", m.slot), num("offset", m.offset);
        fw_enc_begin_ack(c, &m);
    } else if (!strcmp(cls, "ModelChunk")) {
        fw_model_chunk m;
        if (fw_dec_model_chunk(p, n, &m) != FW_OK)
            return 0;
        num("offset", m.offset), hex("data", m.data.data, m.data.len);
        fw_enc_model_chunk(c, &m);
    } else if (!strcmp(cls, "ChunkAck")) {
        fw_chunk_ack m;
        if (fw_dec_chunk_ack(p, n, &m) != FW_OK)
            return 0;
        num("next_offset", m.next_offset);
        fw_enc_chunk_ack(c, &m);
    } else if (!strcmp(cls, "CommitAck")) {
        fw_commit_ack m;
        if (fw_dec_commit_ack(p, n, &m) != FW_OK)
            return 0;
        num("slot", m.slot), num("arena_used", m.arena_used);
        fw_enc_commit_ack(c, &m);
    } else if (!strcmp(cls, "ModelActivate")) {
        fw_model_activate m;
        if (fw_dec_model_activate(p, n, &m) != FW_OK)
            return 0;
        num("slot", m.slot), num("mode", m.mode);
        fw_enc_model_activate(c, &m);
    } else if (!strcmp(cls, "ActivateAck") || !strcmp(cls, "ConfirmAck") || !strcmp(cls, "RollbackAck")) {
        fw_slot_status m;
        if (fw_dec_slot_status(p, n, &m) != FW_OK)
            return 0;
        num("active_slot", m.active_slot);
        slots(m.slots);
        fw_enc_slot_status(c, &m);
    } else if (!strcmp(cls, "ModelStream")) {
        fw_model_stream m;
        if (fw_dec_model_stream(p, n, &m) != FW_OK)
            return 0;
        num("encoding", m.encoding), num("base_slot", m.base_slot), hex("base_sha256", m.base_sha256, 32);
        fw_enc_model_stream(c, &m);
    } else if (!strcmp(cls, "StreamAck")) {
        fw_stream_ack m;
        if (fw_dec_stream_ack(p, n, &m) != FW_OK)
            return 0;
        num("offset", m.offset);
        fw_enc_stream_ack(c, &m);
    } else if (!strcmp(cls, "ModelData")) {
        fw_model_data m;
        if (fw_dec_model_data(p, n, &m) != FW_OK)
            return 0;
        num("offset", m.offset), hex("data", m.data.data, m.data.len);
        fw_enc_model_data(c, &m);
    } else if (!strcmp(cls, "DataAck")) {
        fw_data_ack m;
        if (fw_dec_data_ack(p, n, &m) != FW_OK)
            return 0;
        num("next_offset", m.next_offset), num("received", m.received);
        fw_enc_data_ack(c, &m);
    } else if (!strcmp(cls, "InferResult")) {
        fw_infer_result m;
        if (fw_dec_infer_result(p, n, &m) != FW_OK)
            return 0;
        num("device_time_us", m.device_time_us), num("latency_us", m.latency_us);
        num("inference_count", m.inference_count), num("input_id", m.input_id);
        hex("model_prefix", m.model_prefix, 4), num("dtype", m.dtype), num("format", m.format);
        key("scale"), out("%.9g", (double)m.scale);
        snum("zero_point", m.zero_point), hex("data", m.data.data, m.data.len);
        fw_enc_infer_result(c, &m);
    } else if (!strcmp(cls, "Power")) {
        fw_power m;
        if (fw_dec_power(p, n, &m) != FW_OK)
            return 0;
        num("device_time_us", m.device_time_us), num("voltage_mv", m.voltage_mv);
        num("current_ua", m.current_ua), num("energy_uj", m.energy_uj);
        fw_enc_power(c, &m);
    } else if (!strcmp(cls, "Log")) {
        fw_log m;
        if (fw_dec_log(p, n, &m) != FW_OK)
            return 0;
        num("device_time_us", m.device_time_us), num("level", m.level), text("text", m.text.data, m.text.len);
        fw_enc_log(c, &m);
    } else if (!strcmp(cls, "Boot")) {
        fw_boot m;
        if (fw_dec_boot(p, n, &m) != FW_OK)
            return 0;
        num("reason", m.reason), num("boot_count", m.boot_count);
        fw_enc_boot(c, &m);
    } else if (!strcmp(cls, "Error")) {
        fw_error_msg m;
        if (fw_dec_error_msg(p, n, &m) != FW_OK)
            return 0;
        num("code", m.code), num("detail", m.detail), text("text", m.text.data, m.text.len);
        fw_enc_error_msg(c, &m);
    } else {
        fprintf(stderr, "no C codec for class %s\n", cls);
        return 0;
    }
    return 1;
}

static void check_valid(const golden_frame *g)
{
    static uint8_t wire[8192], body[8192];
    size_t n = unhex(g->hex, wire);
    fw_frame f;
    CHECK_EQ(wire[n - 1], 0);
    CHECK_EQ(fw_frame_decode(wire, n - 1, 0xFFFF, &f), FW_FRAME_OK);
    CHECK_EQ(f.type, g->type);
    CHECK_EQ(f.flags, g->flags == 1 && !strcmp(g->cls, "Error") ? 3 : g->flags);
    CHECK_EQ(f.seq, g->seq);
    g_len = 0;
    g_line[0] = 0;
    g_first = 1;
    fw_cur c = fw_cur_make(body + FW_HDR_SIZE, sizeof body - FW_OVERHEAD);
    int ok = decode_encode(g->cls, f.payload, f.length, &c);
    CHECK(ok);
    if (strcmp(g_line, g->fields) != 0) {
        g_failed++;
        fprintf(stderr, "%s: fields differ\n  C:      %s\n  Python: %s\n", g->name, g_line, g->fields);
    }
    byte_sink s = {{0}, 0};
    fw_frame_send(body, f.type, f.flags, f.seq, (uint16_t)c.pos, byte_sink_put, &s);
    char again[16384];
    for (size_t i = 0; i < s.len; i++)
        snprintf(again + 2 * i, 3, "%02x", s.buf[i]);
    if (strcmp(again, g->hex) != 0) {
        g_failed++;
        fprintf(stderr, "%s: re-encoded bytes differ\n", g->name);
    }
    g_checks += 2;
}

/* Frame-level garbage is dropped silently; message-level errors are answered. */
static void check_invalid(const golden_invalid *g)
{
    static test_board b;
    static uint8_t wire[512];
    size_t n = unhex(g->hex, wire);
    fw_frame f;
    tb_boot(&b, 0, FW_BOOT_POWER_ON);
    while (tb_next(&b, &f))
        ;
    fw_device_input(&b.dev, wire, n);
    fw_frame r;
    int answered = tb_next(&b, &r);
    fw_frame_status st = fw_frame_decode(wire, n - 1, 0xFFFF, &f); /* in place: wire is spent */
    if (!strcmp(g->error, "BadCRC")) {
        CHECK_EQ(st, FW_FRAME_BAD_CRC);
        CHECK(!answered);
        CHECK_EQ(b.dev.rx.stats.bad_crc, 1);
    } else if (!strcmp(g->error, "MalformedFrame")) {
        CHECK_EQ(st, FW_FRAME_MALFORMED);
        CHECK(!answered);
        CHECK_EQ(b.dev.rx.stats.malformed, 1);
    } else {
        int want = !strcmp(g->error, "UnknownMessageType") ? FW_E_UNKNOWN_TYPE
                   : !strcmp(g->error, "UnsupportedVersion") ? FW_E_UNSUPPORTED_VERSION
                   : !strcmp(g->error, "MalformedMessage") ? FW_E_BAD_PAYLOAD : -1;
        CHECK(want > 0);
        CHECK(answered);
        CHECK_EQ(tb_error(&r), want);
        CHECK_EQ(r.version, 1);
    }
}

int main(void)
{
    for (size_t i = 0; i < COUNT(k_frames); i++)
        check_valid(&k_frames[i]);
    for (size_t i = 0; i < COUNT(k_invalid); i++)
        check_invalid(&k_invalid[i]);
    CHECK(COUNT(k_frames) >= 50);
    return check_done("golden");
}
