/* SHA-256 (FIPS 180-4): verifies an uploaded model before it may run (MODEL_COMMIT). */
#ifndef FW_SHA256_H
#define FW_SHA256_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t len;      /* bytes hashed so far */
    uint8_t block[64]; /* partial block */
} fw_sha256;

void fw_sha256_init(fw_sha256 *s);
void fw_sha256_update(fw_sha256 *s, const uint8_t *p, size_t n);
void fw_sha256_final(fw_sha256 *s, uint8_t out[32]);

#endif
