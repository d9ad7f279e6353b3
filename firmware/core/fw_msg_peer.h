/* The host's direction of the codec: encode requests, decode responses and events.
 * The board never links this; tests and host tools use it to talk to the board and
 * to check the C codec against the golden vectors in both directions. */
#ifndef FW_MSG_PEER_H
#define FW_MSG_PEER_H
#include "fw_msg.h"

void fw_enc_hello(fw_cur *c, const fw_hello *m);
void fw_enc_model_begin(fw_cur *c, const fw_model_begin *m);
void fw_enc_model_chunk(fw_cur *c, const fw_model_chunk *m);
void fw_enc_model_activate(fw_cur *c, const fw_model_activate *m);
void fw_enc_model_stream(fw_cur *c, const fw_model_stream *m);
/* MODEL_DATA: fw_enc_model_chunk (the same layout) */

int fw_dec_slot_info(fw_cur *c, fw_slot_info *s);
int fw_dec_info(const uint8_t *p, size_t n, fw_info *m);
int fw_dec_pong(const uint8_t *p, size_t n, fw_pong *m);
int fw_dec_begin_ack(const uint8_t *p, size_t n, fw_begin_ack *m);
int fw_dec_u32(const uint8_t *p, size_t n, uint32_t *v); /* MODEL_ACK, STREAM ack */
int fw_dec_commit_ack(const uint8_t *p, size_t n, fw_commit_ack *m);
int fw_dec_data_ack(const uint8_t *p, size_t n, fw_data_ack *m);
int fw_dec_slot_status(const uint8_t *p, size_t n, fw_slot_status *m);
int fw_dec_infer_result(const uint8_t *p, size_t n, fw_infer_result *m);
int fw_dec_power(const uint8_t *p, size_t n, fw_power_sample *m);
int fw_dec_log(const uint8_t *p, size_t n, fw_log *m);
int fw_dec_boot(const uint8_t *p, size_t n, fw_boot *m);
int fw_dec_error(const uint8_t *p, size_t n, fw_error_msg *m);

/* Room for any RUNTIME response a 64 KiB payload can carry; fw_dec_runtime points the
 * decoded fw_op_list into it. About 80 KiB: a host keeps one, static. */
typedef struct {
    char runtime[FW_MAX_NAME + 1];
    uint16_t builtins[0x7FFF];
    uint8_t seen[0x10000 / 8]; /* codes met so far, to refuse repeats in linear time */
    char customs[255][FW_MAX_OP_NAME + 1];
    const char *custom_ptr[255];
} fw_runtime_buf;
/* Checks what the spec demands: counts within the payload, distinct codes and names, no
 * CUSTOM code, strings ≤ 32 bytes of UTF-8 without control characters, custom names
 * not empty. */
int fw_dec_runtime(const uint8_t *p, size_t n, fw_runtime_buf *buf, fw_op_list *m);

#endif
