/* Decoder of an encoded upload stream (PROTOCOL.md section 10): DEFLATE blocks (raw
 * RFC 1951, inflated in the style of zlib's puff.c) and COPY blocks (bytes of the base
 * slot's model), written straight into the receiving slot through the slot store.
 *
 * No window buffer: a back-reference reads the receiving slot below the byte being
 * written, a COPY reads the base slot, both through fw_store.map. Huffman codes are kept
 * as 4-bit code lengths plus per-length counts and decoded canonically (no lookup tables),
 * so the whole state is this struct (under 512 B on a Cortex-M4).
 *
 * Feeding is incremental: fw_inflate_feed takes whatever stream bytes arrived and
 * suspends between symbols when fewer than 48 bits (the longest symbol: 15 + 5 + 15 + 13)
 * are buffered and the block's deflate data has more bytes to come. `received` moves
 * only to the end of a complete block; writes never leave [received, size). */
#ifndef FW_INFLATE_H
#define FW_INFLATE_H
#include "fw_hal.h"

#define FW_INFLATE_LIT 288u  /* literal/length symbols, 286 and 287 invalid */
#define FW_INFLATE_DIST 30u  /* distance symbols */

typedef struct {
    const fw_store *store;
    const uint8_t *out;   /* the receiving slot, mapped: the history window */
    const uint8_t *base;  /* the base slot, mapped; NULL: no base, COPY refused */
    uint32_t base_size;   /* the base model's size */
    uint32_t size;        /* model size */
    uint32_t received;    /* model offset: end of the last complete block */
    uint32_t pos;         /* model offset of the next output byte (pending literals included) */
    uint32_t end;         /* model offset where the current block ends */
    uint32_t stream_pos;  /* stream bytes consumed */
    const uint8_t *in;    /* the input of the current feed */
    uint32_t avail;
    uint64_t bits;        /* bit buffer, LSB first */
    /* Word-sized counters and states: on a Cortex-M4 narrower ones cost more code than RAM. */
    uint32_t nbits;
    uint32_t state;       /* block layer */
    uint32_t mode;        /* inflate: what comes next in the deflate data */
    uint32_t hdr_n;
    uint32_t in_left;     /* deflate bytes of the block not yet taken from the input */
    uint32_t nlen, ndist, ncode; /* dynamic header */
    uint32_t idx;         /* code length being read, or a stored block's bytes left */
    uint32_t prev;        /* the code length read last */
    uint8_t slot;
    uint8_t last;         /* the deflate block being decoded has BFINAL */
    uint8_t starved;      /* a read went past the block's deflate data */
    uint8_t hdr[7];       /* block header: kind, out_len, in_len or src */
    uint16_t lcount[16];  /* codes per length: literal/length code */
    uint16_t dcount[16];  /* distance code (the code-length code while reading the header) */
    uint8_t lens[(FW_INFLATE_LIT + FW_INFLATE_DIST) / 2]; /* code lengths, nibbles */
    uint8_t clens[10];    /* code-length code lengths, nibbles */
    const char *why;      /* after FW_E_DECODE_FAILED: which rule the stream broke */
} fw_inflate;

/* Open a stream writing model bytes [start, size) of `slot`; `base_slot` FW_NO_SLOT: no base. */
void fw_inflate_open(fw_inflate *z, const fw_store *store, uint8_t slot, uint32_t start, uint32_t size,
                     uint8_t base_slot, uint32_t base_size);
/* Decode the stream's next n bytes. FW_OK: all consumed (z->received may have moved);
 * FW_E_DECODE_FAILED (z->why says why) or FW_E_STORAGE: the stream is broken and z->received
 * is the failing block's model offset. A broken stream is not fed again (the caller closes
 * it); its writes would still stay inside [received, size). */
fw_err fw_inflate_feed(fw_inflate *z, const uint8_t *p, uint32_t n);

#endif
