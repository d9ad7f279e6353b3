"""Error codes a board puts in an ERROR response (PROTOCOL.md, "Error codes").

Kept outside fleet.protocol so that fleet.errors can map codes to exceptions without
importing the protocol package (which itself raises fleet.errors)."""

from enum import IntEnum


class ErrorCode(IntEnum):
    """Why a board refused a request. Values are fixed by protocol v1."""

    UNSUPPORTED_VERSION = 1
    UNKNOWN_TYPE = 2
    BAD_PAYLOAD = 3
    BUSY = 4
    BAD_SLOT = 5
    NO_UPLOAD = 6
    OUT_OF_RANGE = 7
    TOO_LARGE = 8
    HASH_MISMATCH = 9
    MODEL_INVALID = 10
    OP_UNSUPPORTED = 11
    ARENA_TOO_SMALL = 12
    INCOMPLETE = 13
    NOT_VERIFIED = 14
    NOT_PENDING = 15
    INFERENCE_FAILED = 16
    STORAGE = 17
    INTERNAL = 18
    BASE_MISMATCH = 19  # MODEL_STREAM's base slot does not hold the model the host named
    DECODE_FAILED = 20  # an encoded stream's block broke PROTOCOL.md section 10
