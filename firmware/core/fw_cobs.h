/* Consistent Overhead Byte Stuffing (Cheshire & Baker 1999): frames never contain 0x00,
 * so 0x00 is the frame delimiter (PROTOCOL.md section 1). */
#ifndef FW_COBS_H
#define FW_COBS_H
#include <stddef.h>
#include <stdint.h>

/* Where encoded bytes go: a UART, or a buffer in tests. Called once per COBS block. */
typedef void (*fw_put_fn)(void *ctx, const uint8_t *p, size_t n);

/* Longest encoding of n bytes (without the delimiter). */
#define FW_COBS_MAX(n) ((n) + ((n) + 253u) / 254u)

/* Streams the encoding of src[0..n) to put, block by block, so the sender needs no
 * second buffer. Does not write the 0x00 delimiter. Returns the encoded length. */
size_t fw_cobs_encode(const uint8_t *src, size_t n, fw_put_fn put, void *ctx);

/* Decodes buf[0..n) in place (output is never longer than input). Returns the decoded
 * length, or -1 when the input is not valid COBS (a zero byte, or a block that runs past
 * the end), matching the Python `cobs` package the host uses. */
long fw_cobs_decode(uint8_t *buf, size_t n);

#endif
