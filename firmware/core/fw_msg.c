#include "fw_msg.h"

#include <string.h>

/* Struct members are read and written through memcpy at their native width, so the
 * codec is independent of the host's byte order and alignment. */
static uint64_t load(const uint8_t *v, unsigned n)
{
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    switch (n) {
    case 1:
        memcpy(&u8, v, 1);
        return u8;
    case 2:
        memcpy(&u16, v, 2);
        return u16;
    case 4:
        memcpy(&u32, v, 4);
        return u32;
    default:
        memcpy(&u64, v, 8);
        return u64;
    }
}

static void store(uint8_t *v, uint64_t x, unsigned n)
{
    uint8_t u8 = (uint8_t)x;
    uint16_t u16 = (uint16_t)x;
    uint32_t u32 = (uint32_t)x;
    switch (n) {
    case 1:
        memcpy(v, &u8, 1);
        break;
    case 2:
        memcpy(v, &u16, 2);
        break;
    case 4:
        memcpy(v, &u32, 4);
        break;
    default:
        memcpy(v, &x, 8);
        break;
    }
}

/* One walk over a layout table for both directions: `put` appends the struct's fields at
 * the cursor, otherwise they are read from it into the struct. */
static void walk(fw_cur *c, const fw_field *f, uint8_t *m, int put)
{
    for (; f->kind != FW_F_END; f++) {
        uint8_t *v = m + f->offset;
        unsigned arg = (f->kind & 31u) + 1, type = f->kind >> 5;
        if (type == FW_F_UINT) {
            if (!put) {
                store(v, arg == 8 ? fw_get_u64(c) : fw_get_le(c, arg), arg);
                continue;
            }
            uint64_t x = load(v, arg);
            fw_put_le(c, (uint32_t)x, arg < 4 ? arg : 4);
            if (arg == 8)
                fw_put_le(c, (uint32_t)(x >> 32), 4);
        } else if (type == FW_F_BYTES) {
            if (put)
                fw_put_bytes(c, v, arg);
            else
                fw_get_bytes(c, v, arg);
        } else if (type == FW_F_STR8 || type == FW_F_BYTES8) {
            if (put)
                fw_put_str8(c, v[0], v + 1);
            else
                fw_get_str8(c, v, v + 1, (uint8_t)arg, type == FW_F_STR8);
        } else if (type == FW_F_REST) {
            fw_blob *b = (fw_blob *)(void *)v;
            if (put) {
                fw_put_bytes(c, b->data, b->len);
            } else {
                b->data = c->p + c->pos;
                b->len = c->cap - c->pos;
                c->pos = c->cap;
            }
        } else {
            const fw_nested *nest = &fw_nested_layouts[arg - 1];
            for (uint8_t i = 0; i < nest->count; i++)
                walk(c, nest->layout, v + i * nest->size, put);
        }
    }
}

void fw_msg_encode(fw_cur *c, const fw_field *layout, const void *msg)
{
    /* Encoding never writes through `msg`; the cast only shares the walk. */
    walk(c, layout, (uint8_t *)(uintptr_t)msg, 1);
}

fw_err fw_msg_decode(const uint8_t *p, size_t n, const fw_field *layout, void *msg)
{
    /* A reader never writes through the cursor; the cast only shares the type. */
    fw_cur c = fw_cur_make((uint8_t *)(uintptr_t)p, n);
    walk(&c, layout, (uint8_t *)msg, 0);
    return fw_cur_done(&c) ? FW_OK : FW_E_BAD_PAYLOAD;
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
