"""Protocol v1 message set: the message table (PROTOCOL.md, "Messages").

One immutable class per payload layout, grouped by concept: `session` (HELLO, PING,
STREAM_CONFIG, REBOOT), `runtime` (RUNTIME), `upload` (model upload and slots), `events`
(INFER_RESULT, POWER, LOG, BOOT) and `base` (the base class, SLOT_INFO, ERROR). Each field
is declared with its wire type (`fleet.protocol.wire`); that table is the one source of
the layouts: the Python codec is compiled from it (`fleet.protocol.layout`) and the
firmware's C structs, layout tables and enumerations are generated from it
(`tools/gen_c_codec.py`; a test fails when the checked-in C drifts).

Layouts are little-endian fixed fields followed by length-prefixed strings (`str8`: u8
length + UTF-8) and at most one trailing variable field that runs to the end of the
payload. Decoding is strict: a payload shorter or longer than its layout is malformed, and
a field a board sends outside what the protocol allows raises `FieldOutOfRange`
(`fleet.protocol.limits`). Text a board sends is made printable as it is decoded
(`fleet.printable`): no control character in it survives decoding.
"""

from fleet.protocol.messages.base import Error, Message, SlotInfo
from fleet.protocol.messages.events import Boot, InferResult, Log, Power
from fleet.protocol.messages.runtime import Runtime, RuntimeInfo
from fleet.protocol.messages.session import Hello, Info, Ping, Pong, Reboot, RebootAck, StreamConfig, StreamConfigAck
from fleet.protocol.messages.upload import (
    ActivateAck, BeginAck, ChunkAck, CommitAck, ConfirmAck, DataAck, ModelActivate, ModelBegin, ModelChunk, ModelCommit,
    ModelConfirm, ModelData, ModelRollback, ModelStream, RollbackAck, SlotStatus, StreamAck,
)  # fmt: skip
from fleet.protocol.values import (
    CUSTOM_OPERATOR, ENCODING_BLOCKS, MAX_NAME, MAX_OP_NAME, MAX_UID, MIN_MAX_PAYLOAD, MODEL_PREFIX_SIZE, NO_SLOT, SHA256_SIZE, ActivateMode, BootReason, Capability,
    Kind, LogLevel, OutputFormat, SlotState, Stream,
)  # fmt: skip

__all__ = [
    "CUSTOM_OPERATOR", "ENCODING_BLOCKS", "MAX_NAME", "MAX_OP_NAME", "MAX_UID", "MIN_MAX_PAYLOAD", "MODEL_PREFIX_SIZE", "NO_SLOT", "SHA256_SIZE",
    "ActivateAck", "ActivateMode", "BeginAck", "Boot", "BootReason", "Capability", "ChunkAck", "CommitAck",
    "ConfirmAck", "DataAck", "Error", "EVENTS", "Hello", "InferResult", "Info", "Kind", "Log", "LogLevel", "Message",
    "ModelActivate", "ModelBegin", "ModelChunk", "ModelCommit", "ModelConfirm", "ModelData", "ModelRollback", "ModelStream",
    "OutputFormat",
    "Ping", "Pong", "Power", "Reboot", "RebootAck", "REQUESTS", "RESPONSES", "RollbackAck", "Runtime", "RuntimeInfo", "SlotInfo",
    "SlotState", "SlotStatus", "Stream", "StreamAck", "StreamConfig", "StreamConfigAck",
]  # fmt: skip

REQUESTS: dict[int, type[Message]] = {
    cls.TYPE: cls
    for cls in (Hello, Ping, StreamConfig, Reboot, Runtime, ModelBegin, ModelChunk, ModelCommit, ModelActivate,
                ModelConfirm, ModelRollback, ModelStream, ModelData)
}  # fmt: skip
RESPONSES: dict[int, type[Message]] = {
    cls.TYPE: cls
    for cls in (Info, Pong, StreamConfigAck, RebootAck, RuntimeInfo, BeginAck, ChunkAck, CommitAck, ActivateAck, ConfirmAck,
                RollbackAck, StreamAck, DataAck)
}  # fmt: skip
EVENTS: dict[int, type[Message]] = {cls.TYPE: cls for cls in (InferResult, Power, Log, Boot)}
