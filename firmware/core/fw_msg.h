/* Protocol v1 payloads (PROTOCOL.md section 4) as C structs, with the board's
 * direction of the codec: decode requests, encode responses and events. The opposite
 * direction (fw_msg_peer.h) exists for tests and host tools. Variable-length tails
 * (`rest` fields) point into the frame buffer instead of being copied. */
#ifndef FW_MSG_H
#define FW_MSG_H
#include <stddef.h>
#include <stdint.h>

#include "fw_wire.h"

#define FW_MAX_NAME 32u
#define FW_MAX_OP_NAME 64u /* a custom operator's name in RUNTIME (TFLM's run to 35 bytes) */
#define FW_MAX_UID 16u
#define FW_SHA_SIZE 32u
#define FW_NO_SLOT 0xFFu
#define FW_SLOTS 2u
#define FW_OP_CUSTOM 32u /* TFLite BuiltinOperator CUSTOM: customs go by name in RUNTIME */

enum { FW_CAP_RESUME = 1, FW_CAP_RESULTS = 2, FW_CAP_POWER = 4, FW_CAP_LOG = 8, FW_CAP_REBOOT = 16, FW_CAP_RUNTIME = 32,
       FW_CAP_DEFLATE = 64, FW_CAP_DELTA = 128 };
enum { FW_ENCODING_BLOCKS = 1 }; /* MODEL_STREAM encoding: the block stream of section 10 */
enum { FW_STREAM_RESULTS = 1, FW_STREAM_POWER = 2, FW_STREAM_LOG = 4 };
enum { FW_SLOT_EMPTY, FW_SLOT_RECEIVING, FW_SLOT_VALID, FW_SLOT_PENDING, FW_SLOT_ACTIVE };
enum { FW_ACTIVATE_TEST = 0, FW_ACTIVATE_PERMANENT = 1 };
enum { FW_LOG_DEBUG, FW_LOG_INFO, FW_LOG_WARN, FW_LOG_ERROR };
enum { FW_FORMAT_RAW = 0, FW_FORMAT_TOPK = 1 };
enum { FW_BOOT_POWER_ON, FW_BOOT_REQUESTED, FW_BOOT_WATCHDOG, FW_BOOT_FAULT };

typedef struct {
    uint8_t len;
    uint8_t s[FW_MAX_NAME];
} fw_str;

typedef struct {
    uint8_t state;
    uint32_t size;
    uint32_t received;
    uint8_t sha256[FW_SHA_SIZE];
    fw_str name;
    fw_str version;
} fw_slot_info;

typedef struct {
    uint8_t host_version;
    uint16_t host_max_payload;
} fw_hello;

typedef struct {
    uint8_t proto_version, active_slot;
    uint16_t max_payload;
    uint32_t capabilities, rx_window, arena_bytes, slot_bytes, cpu_hz;
    uint8_t uid_len;
    uint8_t uid[FW_MAX_UID];
    fw_str board_kind, firmware_version;
    fw_slot_info slots[FW_SLOTS];
} fw_info;

typedef struct {
    const uint8_t *data;
    size_t len;
} fw_blob;

typedef struct {
    uint64_t device_time_us;
    fw_blob data;
} fw_pong;

typedef struct { /* request and response share the layout */
    uint8_t streams, log_level;
    uint16_t result_interval_ms, power_interval_ms;
    uint8_t top_k;
} fw_stream_config;

typedef struct {
    uint8_t slot;
    uint32_t size;
    uint8_t sha256[FW_SHA_SIZE];
    fw_str name, version;
} fw_model_begin;

typedef struct {
    uint8_t slot;
    uint32_t offset;
} fw_begin_ack;

typedef struct {
    uint32_t offset;
    fw_blob data;
} fw_model_chunk;

typedef struct {
    uint8_t encoding, base_slot;
    uint8_t base_sha256[FW_SHA_SIZE];
} fw_model_stream;

typedef fw_model_chunk fw_model_data; /* MODEL_DATA has MODEL_CHUNK's layout, in stream offsets */

typedef struct {
    uint32_t next_offset, received;
} fw_data_ack;

typedef struct {
    uint8_t slot;
    uint32_t arena_used;
} fw_commit_ack;

typedef struct {
    uint8_t slot, mode;
} fw_model_activate;

typedef struct {
    uint8_t active_slot;
    fw_slot_info slots[FW_SLOTS];
} fw_slot_status;

typedef struct {
    uint64_t device_time_us;
    uint32_t latency_us, inference_count, input_id;
    uint8_t model_prefix[4];
    uint8_t dtype, format;
    float scale;
    int32_t zero_point;
    fw_blob data;
} fw_infer_result;

typedef struct {
    uint64_t device_time_us;
    uint16_t voltage_mv;
    uint32_t current_ua;
    uint64_t energy_uj;
} fw_power_sample;

typedef struct {
    uint64_t device_time_us;
    uint8_t level;
    fw_blob text;
} fw_log;

typedef struct {
    uint8_t reason;
    uint32_t boot_count;
} fw_boot;

typedef struct {
    uint16_t code;
    uint32_t detail;
    fw_blob text;
} fw_error_msg;

/* The RUNTIME response: what a runner can execute (the board's runner owns the tables):
 * builtin operators by their TFLite BuiltinOperator code, custom operators by name.
 * Strings are NUL-terminated: the runtime 0..32 bytes, custom names 1..FW_MAX_OP_NAME; codes are distinct
 * and never FW_OP_CUSTOM. */
typedef struct {
    const char *runtime; /* e.g. "tflm 90b983c cmsis-nn"; ≤ 32 bytes */
    const uint16_t *builtins;
    uint16_t n_builtins;
    const char *const *customs; /* each ≤ FW_MAX_OP_NAME bytes */
    uint8_t n_customs;
} fw_op_list;

/* Requests, decoded from a payload. Each returns 1, or 0 when the payload does not
 * match the layout exactly (the board answers BAD_PAYLOAD). */
int fw_dec_hello(const uint8_t *p, size_t n, fw_hello *m);
int fw_dec_stream_config(const uint8_t *p, size_t n, fw_stream_config *m);
int fw_dec_u8(const uint8_t *p, size_t n, uint8_t *v); /* REBOOT, COMMIT, CONFIRM */
int fw_dec_model_begin(const uint8_t *p, size_t n, fw_model_begin *m);
int fw_dec_model_chunk(const uint8_t *p, size_t n, fw_model_chunk *m);
int fw_dec_model_activate(const uint8_t *p, size_t n, fw_model_activate *m);
int fw_dec_model_stream(const uint8_t *p, size_t n, fw_model_stream *m);

/* Responses and events, appended at the cursor (overflow marks it bad). */
void fw_enc_slot_info(fw_cur *c, const fw_slot_info *s);
void fw_enc_info(fw_cur *c, const fw_info *m);
void fw_enc_pong(fw_cur *c, const fw_pong *m);
void fw_enc_stream_config(fw_cur *c, const fw_stream_config *m);
void fw_enc_begin_ack(fw_cur *c, const fw_begin_ack *m);
void fw_enc_commit_ack(fw_cur *c, const fw_commit_ack *m);
void fw_enc_data_ack(fw_cur *c, const fw_data_ack *m);
void fw_enc_slot_status(fw_cur *c, const fw_slot_status *m);
void fw_enc_infer_result(fw_cur *c, const fw_infer_result *m);
void fw_enc_power(fw_cur *c, const fw_power_sample *m);
void fw_enc_log(fw_cur *c, const fw_log *m);
void fw_enc_boot(fw_cur *c, const fw_boot *m);
void fw_enc_error(fw_cur *c, const fw_error_msg *m);
/* Marks the cursor bad when a string breaks the limits (the board then answers INTERNAL). */
void fw_enc_runtime(fw_cur *c, const fw_op_list *m);

#endif
