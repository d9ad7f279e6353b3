/* Little-endian cursors over payload buffers. Every access is bounds-checked: a read
 * past the end or a write past capacity sets `bad` and the caller rejects the whole
 * message, so decoders need no per-field length checks. */
#ifndef FW_WIRE_H
#define FW_WIRE_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *p;
    size_t cap; /* readable bytes (reader) or capacity (writer) */
    size_t pos;
    int bad;
} fw_cur;

static inline fw_cur fw_cur_make(uint8_t *p, size_t cap)
{
    fw_cur c = {p, cap, 0, 0};
    return c;
}

/* Reserve n bytes at the cursor: returns where they are, or NULL (and marks bad). */
uint8_t *fw_cur_take(fw_cur *c, size_t n);

uint32_t fw_get_le(fw_cur *c, unsigned bytes); /* u8/u16/u32 */
uint64_t fw_get_u64(fw_cur *c);
void fw_put_le(fw_cur *c, uint32_t v, unsigned bytes);
void fw_put_bytes(fw_cur *c, const void *src, size_t n);
void fw_get_bytes(fw_cur *c, void *dst, size_t n);

/* str8: u8 length + bytes. Reading checks the length limit and, as the host's decoder
 * does, that the bytes are valid UTF-8. `dst` holds `limit` bytes. */
void fw_get_str8(fw_cur *c, uint8_t *len, uint8_t *dst, uint8_t limit, int utf8);
void fw_put_str8(fw_cur *c, uint8_t len, const uint8_t *src);

/* A reader must end exactly at the end of the payload (layouts are exact). */
static inline int fw_cur_done(const fw_cur *c) { return !c->bad && c->pos == c->cap; }

int fw_utf8_valid(const uint8_t *p, size_t n);

static inline uint32_t fw_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint16_t fw_rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

#endif
