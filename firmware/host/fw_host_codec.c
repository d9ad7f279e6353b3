#include "fw_host_codec.h"

#include <string.h>

/* A str8 as a C string: refused when it holds a control character, C0 and DEL (NUL
 * among them: it could not be told apart) or C1 (U+0080..U+009F, UTF-8 C2 80..C2 9F). */
static int get_cstr8(fw_cur *c, char *dst, uint8_t max)
{
    uint8_t len;
    fw_get_str8(c, &len, (uint8_t *)dst, max, 1);
    dst[len] = 0;
    for (uint8_t i = 0; i < len; i++) {
        uint8_t b = (uint8_t)dst[i];
        if (b < 0x20 || b == 0x7F || (b == 0xC2 && (uint8_t)dst[i + 1] < 0xA0))
            return 0;
    }
    return !c->bad;
}

static int get_runtime(fw_cur *c, fw_runtime_buf *buf, uint16_t *nb, uint8_t *nc)
{
    memset(buf->seen, 0, sizeof buf->seen);
    if (!get_cstr8(c, buf->runtime, FW_MAX_NAME))
        return 0;
    *nb = (uint16_t)fw_get_le(c, 2);
    if (c->bad || (size_t)*nb * 2 > c->cap - c->pos)
        return 0;
    for (uint16_t i = 0; i < *nb; i++) {
        uint16_t code = (uint16_t)fw_get_le(c, 2);
        if (code == FW_CUSTOM_OPERATOR || (buf->seen[code >> 3] & (1u << (code & 7))))
            return 0;
        buf->seen[code >> 3] |= (uint8_t)(1u << (code & 7));
        buf->builtins[i] = code;
    }
    *nc = (uint8_t)fw_get_le(c, 1);
    for (uint8_t i = 0; i < *nc; i++) {
        if (!get_cstr8(c, buf->customs[i], FW_MAX_OP_NAME) || !buf->customs[i][0])
            return 0;
        for (uint8_t j = 0; j < i; j++)
            if (!strcmp(buf->customs[i], buf->customs[j]))
                return 0;
        buf->custom_ptr[i] = buf->customs[i];
    }
    return fw_cur_done(c);
}

fw_err fw_dec_runtime(const uint8_t *p, size_t n, fw_runtime_buf *buf, fw_op_list *m)
{
    fw_cur c = fw_cur_make((uint8_t *)(uintptr_t)p, n);
    uint16_t nb = 0;
    uint8_t nc = 0;
    if (!get_runtime(&c, buf, &nb, &nc))
        return FW_E_BAD_PAYLOAD;
    m->runtime = buf->runtime;
    m->builtins = buf->builtins;
    m->n_builtins = nb;
    m->customs = buf->custom_ptr;
    m->n_customs = nc;
    return FW_OK;
}
