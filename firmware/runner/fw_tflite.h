/* A bounds-checked reader for the TFLite flatbuffer (tensorflow/lite/schema/schema.fbs):
 * just the tables and fields a runner needs, read in place from the model slot. Every
 * offset is checked against the buffer, so a corrupt or hostile model is refused
 * (MODEL_INVALID) instead of read out of bounds. */
#ifndef FW_TFLITE_H
#define FW_TFLITE_H
#include <stdint.h>

enum { /* TensorType */
    FW_TT_FLOAT32 = 0, FW_TT_FLOAT16 = 1, FW_TT_INT32 = 2, FW_TT_UINT8 = 3, FW_TT_INT64 = 4,
    FW_TT_BOOL = 6, FW_TT_INT16 = 7, FW_TT_INT8 = 9,
};
enum { FW_OP_FULLY_CONNECTED = 9 };
enum { FW_ACT_NONE = 0, FW_ACT_RELU = 1, FW_ACT_RELU_N1_TO_1 = 2, FW_ACT_RELU6 = 3 };

#define FW_TFLITE_MAX_DIMS 6

typedef struct {
    const uint8_t *buf;
    uint32_t size;
    int bad; /* set by any out-of-bounds or malformed access */
} fw_fb;

/* A vector: position of element 0 and its length (0 when absent). */
typedef struct {
    uint32_t at, n;
} fw_fb_vec;

typedef struct {
    fw_fb fb;
    fw_fb_vec opcodes, buffers;
    fw_fb_vec tensors, operators, inputs, outputs; /* of subgraph 0 */
} fw_tflite;

typedef struct {
    uint8_t type;
    uint8_t ndims;
    int32_t dims[FW_TFLITE_MAX_DIMS];
    uint32_t elements;    /* product of dims, checked against overflow */
    uint32_t bytes;       /* elements * element size */
    const uint8_t *data;  /* constant data, NULL for a tensor computed at run time */
    uint32_t data_bytes;
    fw_fb_vec scales;     /* float32 */
    fw_fb_vec zero_points; /* int64 */
} fw_tensor;

typedef struct {
    int32_t code; /* BuiltinOperator */
    fw_fb_vec inputs, outputs; /* int32 tensor indices, -1 = optional input absent */
    uint32_t options; /* builtin_options table, 0 when absent */
} fw_operator;

/* 0 and the model view, or -1 when the bytes are not a TFLite model with a subgraph. */
int fw_tflite_open(fw_tflite *m, const uint8_t *buf, uint32_t size);
int fw_tflite_tensor(fw_tflite *m, uint32_t index, fw_tensor *t);
int fw_tflite_operator(fw_tflite *m, uint32_t index, fw_operator *op);

/* Scalars of a vector / table field; out-of-range reads mark the reader bad. */
int32_t fw_fb_i32_at(fw_fb *fb, fw_fb_vec v, uint32_t i);
float fw_fb_f32_at(fw_fb *fb, fw_fb_vec v, uint32_t i);
int64_t fw_fb_i64_at(fw_fb *fb, fw_fb_vec v, uint32_t i);
int32_t fw_fb_field_int(fw_fb *fb, uint32_t table, unsigned field, unsigned bytes, int32_t dflt);

const char *fw_tflite_op_name(int32_t code);

#endif
