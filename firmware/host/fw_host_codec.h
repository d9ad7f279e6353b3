/* The host's side of the codec: what a host needs beyond the table-driven codec every
 * board links (fw_msg.h), which encodes and decodes every layout in both directions.
 * Boards never link this; the C test hosts, the fuzzer and host tools do. */
#ifndef FW_HOST_CODEC_H
#define FW_HOST_CODEC_H
#include "fw_msg.h"

/* Room for any RUNTIME response a 64 KiB payload can carry; fw_dec_runtime points the
 * decoded fw_op_list into it. About 80 KiB: a host keeps one, static. */
typedef struct {
    char runtime[FW_MAX_NAME + 1];
    uint16_t builtins[0x7FFF];
    uint8_t seen[0x10000 / 8]; /* codes met so far, to refuse repeats in linear time */
    char customs[255][FW_MAX_OP_NAME + 1];
    const char *custom_ptr[255];
} fw_runtime_buf;
/* Decodes a RUNTIME response: FW_OK, or FW_E_BAD_PAYLOAD unless it holds what the spec
 * demands: counts within the payload, distinct codes and names, no CUSTOM code, strings
 * within their limits of UTF-8 without control characters, custom names not empty. */
fw_err fw_dec_runtime(const uint8_t *p, size_t n, fw_runtime_buf *buf, fw_op_list *m);

#endif
