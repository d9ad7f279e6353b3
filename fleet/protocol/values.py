"""Protocol v1 numbers: size limits, and the enumerations message fields take (PROTOCOL.md)."""

from enum import IntEnum, IntFlag

SHA256_SIZE = 32
MODEL_PREFIX_SIZE = 4
MAX_NAME = 32  # name, version, board kind, firmware version: bytes of UTF-8
# A custom operator's name in RUNTIME: TFLM's own run to 35 bytes (SignalFilterBankSpectralSubtraction).
MAX_OP_NAME = 64
MAX_UID = 16
NO_SLOT = 0xFF
ENCODING_BLOCKS = 1  # MODEL_STREAM `encoding`: the block stream of PROTOCOL.md section 10
MIN_MAX_PAYLOAD = 512  # every board must accept payloads at least this large
CUSTOM_OPERATOR = 32  # TFLite BuiltinOperator CUSTOM: custom operators are listed by name, never by this code


class Kind(IntEnum):
    REQUEST = 0
    RESPONSE = 1
    EVENT = 2


class Capability(IntFlag):
    """Capability bits a board declares in INFO."""

    NONE = 0
    RESUME = 0x01
    RESULTS = 0x02
    POWER = 0x04
    LOG = 0x08
    REBOOT = 0x10
    RUNTIME = 0x20  # answers RUNTIME: what the board's runtime can run
    DEFLATE = 0x40  # decodes encoded uploads (MODEL_STREAM, MODEL_DATA; PROTOCOL.md section 10)
    DELTA = 0x80  # and their COPY blocks from a base slot
    POWER_SENSOR = 0x100  # POWER is measured by the board's own current sensor, not modelled


class Stream(IntFlag):
    """Stream bits in STREAM_CONFIG."""

    NONE = 0
    RESULTS = 0x01
    POWER = 0x02
    LOG = 0x04


class SlotState(IntEnum):
    EMPTY = 0
    RECEIVING = 1  # upload in progress (or complete but not yet committed)
    VALID = 2  # complete, hash verified, test-loaded; not running
    PENDING = 3  # running in test mode; reverts on reboot unless confirmed
    ACTIVE = 4  # running and confirmed


class ActivateMode(IntEnum):
    TEST = 0
    PERMANENT = 1


class LogLevel(IntEnum):
    DEBUG = 0
    INFO = 1
    WARN = 2
    ERROR = 3


class OutputFormat(IntEnum):
    RAW = 0  # the output tensor's bytes
    TOPK = 1  # entries of (u16 index, value of the tensor's element size)


class BootReason(IntEnum):
    POWER_ON = 0
    REQUESTED = 1
    WATCHDOG = 2
    FAULT = 3


# The largest defined value of each enumeration a board sends, checked on every event:
# `max(Enum)` iterates the class, microseconds paid per frame.
MAX_OUTPUT_FORMAT = int(max(OutputFormat))
MAX_LOG_LEVEL = int(max(LogLevel))
MAX_BOOT_REASON = int(max(BootReason))
