/* Protocol v1 payloads (PROTOCOL.md section 4) as C structs, and the table-driven codec
 * that encodes and decodes them.
 *
 * The structs, their layout tables and the protocol's numbers are generated from the
 * Python message table (fleet/protocol/messages) by tools/gen_c_codec.py: fw_proto.h,
 * fw_layouts.h, fw_layouts.c. To add a message or a field, edit the Python table and run
 * the generator; never edit those files. A layout table lists a struct's fields in wire
 * order (offset in the struct, kind); fw_msg_encode and fw_msg_decode walk it, so the
 * codec's code does not grow with the message set. Variable-length tails (`rest` fields)
 * point into the frame buffer instead of being copied. */
#ifndef FW_MSG_H
#define FW_MSG_H
#include <stddef.h>
#include <stdint.h>

#include "fw_proto.h"
#include "fw_wire.h"

typedef struct {
    uint8_t len;
    uint8_t s[FW_MAX_NAME];
} fw_str;

typedef struct {
    const uint8_t *data;
    size_t len;
} fw_blob;

/* One field of a layout table: where it sits in its struct and how it travels. The kind
 * packs a type (bits 7..5) and an argument 1..32 (bits 4..0, stored minus one). */
typedef struct {
    uint8_t offset;
    uint8_t kind;
} fw_field;

#define FW_F(type, arg) ((uint8_t)((type) << 5 | ((arg) - 1)))
#define FW_F_END 0
enum {
    FW_F_UINT = 1,   /* little-endian unsigned of `arg` bytes (1, 2, 4, 8); i32 and f32 as their bits */
    FW_F_BYTES = 2,  /* exactly `arg` bytes (uint8_t[arg]) */
    FW_F_STR8 = 3,   /* u8 length + UTF-8, at most `arg` bytes ({uint8_t len; uint8_t s[arg];}) */
    FW_F_BYTES8 = 4, /* the same without the UTF-8 check */
    FW_F_REST = 5,   /* the rest of the payload (fw_blob); only last */
    FW_F_NEST = 6,   /* fw_nested_layouts[arg - 1]: an array of structs with their own layout */
};

typedef struct {
    const fw_field *layout;
    uint16_t size; /* of one struct */
    uint8_t count;
} fw_nested;
extern const fw_nested fw_nested_layouts[];

/* Append `msg` (the struct `layout` describes) at the cursor; overflow marks it bad. */
void fw_msg_encode(fw_cur *c, const fw_field *layout, const void *msg);
/* Decode a whole payload into `msg`: FW_OK, or FW_E_BAD_PAYLOAD when it does not match the
 * layout exactly (too short, too long, a string over its limit or not UTF-8). */
fw_err fw_msg_decode(const uint8_t *p, size_t n, const fw_field *layout, void *msg);

#include "fw_layouts.h"

/* The RUNTIME response: what a runner can execute (the board's runner owns the tables):
 * builtin operators by their TFLite BuiltinOperator code, custom operators by name.
 * Strings are NUL-terminated: the runtime 0..32 bytes, custom names 1..FW_MAX_OP_NAME; codes
 * are distinct and never FW_CUSTOM_OPERATOR. Its counted lists are outside what a layout
 * table describes: encoded by hand, checked against the Python table by the golden vectors. */
typedef struct {
    const char *runtime; /* e.g. "tflm 90b983c cmsis-nn"; ≤ 32 bytes */
    const uint16_t *builtins;
    uint16_t n_builtins;
    const char *const *customs; /* each ≤ FW_MAX_OP_NAME bytes */
    uint8_t n_customs;
} fw_op_list;

/* Marks the cursor bad when a string breaks the limits (the board then answers INTERNAL). */
void fw_enc_runtime(fw_cur *c, const fw_op_list *m);

#endif
