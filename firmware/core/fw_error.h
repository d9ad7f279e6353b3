/* Error codes of an ERROR response (PROTOCOL.md section 7); values are fixed by v1. */
#ifndef FW_ERROR_H
#define FW_ERROR_H

typedef enum {
    FW_OK = 0,
    FW_E_UNSUPPORTED_VERSION = 1,
    FW_E_UNKNOWN_TYPE = 2,
    FW_E_BAD_PAYLOAD = 3,
    FW_E_BUSY = 4,
    FW_E_BAD_SLOT = 5,
    FW_E_NO_UPLOAD = 6,
    FW_E_OUT_OF_RANGE = 7,
    FW_E_TOO_LARGE = 8,
    FW_E_HASH_MISMATCH = 9,
    FW_E_MODEL_INVALID = 10,
    FW_E_OP_UNSUPPORTED = 11,
    FW_E_ARENA_TOO_SMALL = 12,
    FW_E_INCOMPLETE = 13,
    FW_E_NOT_VERIFIED = 14,
    FW_E_NOT_PENDING = 15,
    FW_E_INFERENCE_FAILED = 16,
    FW_E_STORAGE = 17,
    FW_E_INTERNAL = 18,
    FW_E_BASE_MISMATCH = 19,
    FW_E_DECODE_FAILED = 20
} fw_err;

#endif
