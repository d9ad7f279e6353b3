/* CRC-32 (IEEE 802.3, reflected 0xEDB88320), the frame check of PROTOCOL.md section 1. */
#ifndef FW_CRC32_H
#define FW_CRC32_H
#include <stddef.h>
#include <stdint.h>

/* zlib.crc32 semantics: pass 0 to start, or a previous result to continue over more bytes. */
uint32_t fw_crc32(uint32_t crc, const uint8_t *p, size_t n);

#endif
