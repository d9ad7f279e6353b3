#include "fw_wire.h"

#include <string.h>

uint8_t *fw_cur_take(fw_cur *c, size_t n)
{
    if (c->bad || n > c->cap - c->pos) {
        c->bad = 1;
        return NULL;
    }
    uint8_t *at = c->p + c->pos;
    c->pos += n;
    return at;
}

uint32_t fw_get_le(fw_cur *c, unsigned bytes)
{
    const uint8_t *p = fw_cur_take(c, bytes);
    uint32_t v = 0;
    if (p)
        while (bytes--)
            v = v << 8 | p[bytes];
    return v;
}

uint64_t fw_get_u64(fw_cur *c)
{
    uint64_t lo = fw_get_le(c, 4);
    return lo | (uint64_t)fw_get_le(c, 4) << 32;
}

void fw_put_le(fw_cur *c, uint32_t v, unsigned bytes)
{
    uint8_t *p = fw_cur_take(c, bytes);
    if (p)
        for (unsigned i = 0; i < bytes; i++, v >>= 8)
            p[i] = (uint8_t)v;
}

void fw_put_bytes(fw_cur *c, const void *src, size_t n)
{
    uint8_t *p = fw_cur_take(c, n);
    if (p && n)
        memcpy(p, src, n);
}

void fw_get_bytes(fw_cur *c, void *dst, size_t n)
{
    const uint8_t *p = fw_cur_take(c, n);
    if (p && n)
        memcpy(dst, p, n);
}

void fw_get_str8(fw_cur *c, uint8_t *len, uint8_t *dst, uint8_t limit, int utf8)
{
    uint8_t n = (uint8_t)fw_get_le(c, 1);
    const uint8_t *p = n <= limit ? fw_cur_take(c, n) : NULL;
    if (!p || (utf8 && !fw_utf8_valid(p, n))) {
        c->bad = 1;
        *len = 0;
        return;
    }
    memcpy(dst, p, n);
    *len = n;
}

void fw_put_str8(fw_cur *c, uint8_t len, const uint8_t *src)
{
    fw_put_le(c, len, 1);
    fw_put_bytes(c, src, len);
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF,
 * exactly what Python's bytes.decode("utf-8") accepts. */
int fw_utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = p[i++];
        unsigned more;
        uint32_t cp, min;
        if (b < 0x80)
            continue;
        if (b >= 0xC2 && b <= 0xDF) {
            more = 1, cp = b & 0x1Fu, min = 0x80;
        } else if (b >= 0xE0 && b <= 0xEF) {
            more = 2, cp = b & 0x0Fu, min = 0x800;
        } else if (b >= 0xF0 && b <= 0xF4) {
            more = 3, cp = b & 0x07u, min = 0x10000;
        } else {
            return 0;
        }
        if (more > n - i)
            return 0;
        while (more--) {
            uint8_t k = p[i++];
            if ((k & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (k & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu))
            return 0;
    }
    return 1;
}
