#include "fw_tflite.h"

#include <string.h>

static uint32_t rd(fw_fb *fb, uint32_t pos, unsigned bytes)
{
    if (fb->bad || pos > fb->size || bytes > fb->size - pos) {
        fb->bad = 1;
        return 0;
    }
    uint32_t v = 0;
    while (bytes--)
        v = v << 8 | fb->buf[pos + bytes];
    return v;
}

/* Position of field `field` of the table at `table`, or 0 when the field is absent. */
static uint32_t field_pos(fw_fb *fb, uint32_t table, unsigned field)
{
    if (!table)
        return 0;
    int32_t soff = (int32_t)rd(fb, table, 4);
    int64_t vt = (int64_t)table - soff;
    if (vt < 0 || vt > (int64_t)fb->size) {
        fb->bad = 1;
        return 0;
    }
    uint32_t vt_len = rd(fb, (uint32_t)vt, 2);
    unsigned slot = 4 + 2 * field;
    if (slot + 2 > vt_len)
        return 0;
    uint32_t off = rd(fb, (uint32_t)vt + slot, 2);
    return off ? table + off : 0;
}

/* Follow the uoffset stored in a field to a table, vector or string. */
static uint32_t ref(fw_fb *fb, uint32_t table, unsigned field)
{
    uint32_t pos = field_pos(fb, table, field);
    if (!pos)
        return 0;
    uint64_t target = (uint64_t)pos + rd(fb, pos, 4);
    if (target >= fb->size) {
        fb->bad = 1;
        return 0;
    }
    return (uint32_t)target;
}

static fw_fb_vec vec(fw_fb *fb, uint32_t table, unsigned field, unsigned elem)
{
    fw_fb_vec v = {0, 0};
    uint32_t pos = ref(fb, table, field);
    if (!pos)
        return v;
    uint32_t n = rd(fb, pos, 4);
    if ((uint64_t)pos + 4 + (uint64_t)n * elem > fb->size) {
        fb->bad = 1;
        return v;
    }
    v.at = pos + 4;
    v.n = n;
    return v;
}

/* Element i of a vector of tables. */
static uint32_t table_at(fw_fb *fb, fw_fb_vec v, uint32_t i)
{
    if (i >= v.n) {
        fb->bad = 1;
        return 0;
    }
    uint32_t pos = v.at + 4 * i;
    uint64_t target = (uint64_t)pos + rd(fb, pos, 4);
    if (target >= fb->size) {
        fb->bad = 1;
        return 0;
    }
    return (uint32_t)target;
}

int32_t fw_fb_field_int(fw_fb *fb, uint32_t table, unsigned field, unsigned bytes, int32_t dflt)
{
    uint32_t pos = field_pos(fb, table, field);
    if (!pos)
        return dflt;
    uint32_t v = rd(fb, pos, bytes);
    if (bytes == 1)
        return (int8_t)v;
    if (bytes == 2)
        return (int16_t)v;
    return (int32_t)v;
}

int32_t fw_fb_i32_at(fw_fb *fb, fw_fb_vec v, uint32_t i)
{
    if (i >= v.n) {
        fb->bad = 1;
        return 0;
    }
    return (int32_t)rd(fb, v.at + 4 * i, 4);
}

float fw_fb_f32_at(fw_fb *fb, fw_fb_vec v, uint32_t i)
{
    uint32_t bits = (uint32_t)fw_fb_i32_at(fb, v, i);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

int64_t fw_fb_i64_at(fw_fb *fb, fw_fb_vec v, uint32_t i)
{
    if (i >= v.n) {
        fb->bad = 1;
        return 0;
    }
    uint64_t lo = rd(fb, v.at + 8 * i, 4);
    return (int64_t)(lo | (uint64_t)rd(fb, v.at + 8 * i + 4, 4) << 32);
}

int fw_tflite_open(fw_tflite *m, const uint8_t *buf, uint32_t size)
{
    memset(m, 0, sizeof *m);
    m->fb.buf = buf;
    m->fb.size = size;
    fw_fb *fb = &m->fb;
    if (size < 8 || memcmp(buf + 4, "TFL3", 4) != 0)
        return -1;
    uint32_t root = rd(fb, 0, 4);
    if (root >= size)
        return -1;
    /* Model: 1 operator_codes, 2 subgraphs, 4 buffers. SubGraph: 0 tensors, 1 inputs,
     * 2 outputs, 3 operators. */
    m->opcodes = vec(fb, root, 1, 4);
    m->buffers = vec(fb, root, 4, 4);
    fw_fb_vec subgraphs = vec(fb, root, 2, 4);
    if (fb->bad || subgraphs.n == 0)
        return -1;
    uint32_t sg = table_at(fb, subgraphs, 0);
    m->tensors = vec(fb, sg, 0, 4);
    m->inputs = vec(fb, sg, 1, 4);
    m->outputs = vec(fb, sg, 2, 4);
    m->operators = vec(fb, sg, 3, 4);
    return fb->bad ? -1 : 0;
}

static uint32_t type_size(uint8_t type)
{
    switch (type) {
    case FW_TT_UINT8: case FW_TT_INT8: case FW_TT_BOOL: return 1;
    case FW_TT_INT16: case FW_TT_FLOAT16: return 2;
    case FW_TT_FLOAT32: case FW_TT_INT32: return 4;
    case FW_TT_INT64: return 8;
    default: return 0;
    }
}

int fw_tflite_tensor(fw_tflite *m, uint32_t index, fw_tensor *t)
{
    fw_fb *fb = &m->fb;
    uint32_t tab = table_at(fb, m->tensors, index);
    memset(t, 0, sizeof *t);
    /* Tensor: 0 shape, 1 type, 2 buffer, 4 quantization. */
    fw_fb_vec shape = vec(fb, tab, 0, 4);
    t->type = (uint8_t)fw_fb_field_int(fb, tab, 1, 1, 0);
    if (shape.n > FW_TFLITE_MAX_DIMS || type_size(t->type) == 0)
        return -1;
    uint64_t elements = 1;
    t->ndims = (uint8_t)shape.n;
    for (uint32_t i = 0; i < shape.n; i++) {
        t->dims[i] = fw_fb_i32_at(fb, shape, i);
        if (t->dims[i] < 0)
            return -1;
        elements *= (uint64_t)t->dims[i];
        if (elements * type_size(t->type) > 0x7FFFFFFFu)
            return -1;
    }
    t->elements = (uint32_t)elements;
    t->bytes = t->elements * type_size(t->type);
    /* Buffer: 0 data; 1 offset and 2 size place data outside the flatbuffer (models
     * over 2 GB). Buffer 0 is the empty sentinel of every run-time tensor. */
    uint32_t b = (uint32_t)fw_fb_field_int(fb, tab, 2, 4, 0);
    if (b) {
        uint32_t btab = table_at(fb, m->buffers, b);
        fw_fb_vec data = vec(fb, btab, 0, 1);
        uint32_t off = (uint32_t)fw_fb_field_int(fb, btab, 1, 4, 0);
        uint32_t len = (uint32_t)fw_fb_field_int(fb, btab, 2, 4, 0);
        if (data.n) {
            t->data = fb->buf + data.at;
            t->data_bytes = data.n;
        } else if (off > 1) {
            if ((uint64_t)off + len > fb->size)
                return -1;
            t->data = fb->buf + off;
            t->data_bytes = len;
        }
        if (t->data && t->data_bytes != t->bytes)
            return -1;
    }
    /* QuantizationParameters: 2 scale, 3 zero_point. */
    uint32_t q = ref(fb, tab, 4);
    t->scales = vec(fb, q, 2, 4);
    t->zero_points = vec(fb, q, 3, 8);
    return fb->bad ? -1 : 0;
}

int fw_tflite_operator(fw_tflite *m, uint32_t index, fw_operator *op)
{
    fw_fb *fb = &m->fb;
    uint32_t tab = table_at(fb, m->operators, index);
    /* Operator: 0 opcode_index, 1 inputs, 2 outputs, 4 builtin_options. */
    uint32_t oc = (uint32_t)fw_fb_field_int(fb, tab, 0, 4, 0);
    uint32_t code_tab = table_at(fb, m->opcodes, oc);
    /* OperatorCode: 0 deprecated_builtin_code (i8), 3 builtin_code (i32); the real code
     * is the larger of the two (schema v3a compatibility rule). */
    int32_t old = fw_fb_field_int(fb, code_tab, 0, 1, 0);
    int32_t now = fw_fb_field_int(fb, code_tab, 3, 4, 0);
    op->code = old > now ? old : now;
    op->inputs = vec(fb, tab, 1, 4);
    op->outputs = vec(fb, tab, 2, 4);
    op->options = ref(fb, tab, 4);
    return fb->bad ? -1 : 0;
}
