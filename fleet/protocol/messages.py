"""Protocol v1 message set: one immutable class per payload layout (PROTOCOL.md, "Messages").

Every class knows its message type, whether it is a request (host -> board), a response
or an unsolicited event (board -> host), and how to encode/decode its payload. Layouts
are fixed little-endian structs followed by length-prefixed strings (`str8`: u8 length +
UTF-8) and at most one trailing variable field that runs to the end of the payload.
Decoding is strict: a payload that is shorter or longer than its layout is malformed, and
a field a board sends outside what the protocol allows raises `FieldOutOfRange`
(`fleet.protocol.limits`). Text a board sends is made printable as it is decoded
(`fleet.printable`): no control character in it survives decoding.
"""

from __future__ import annotations

import struct
import unicodedata
from dataclasses import dataclass
from typing import ClassVar

from fleet.errors import MalformedMessage
from fleet.printable import printable
from fleet.protocol import limits
from fleet.protocol.header import MsgType
from fleet.protocol.payload import U8, U16, Reader, bytes8, field_names, pack, sha, str8
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


# --- base ----------------------------------------------------------------------------


class Message:
    """Base of all message payloads."""

    __slots__ = ()
    TYPE: ClassVar[MsgType]
    KIND: ClassVar[Kind]

    def encode(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def decode(cls, payload: bytes) -> Message:
        raise NotImplementedError

    def _validate(self) -> None:
        """Raise FieldOutOfRange for a value protocol v1 does not allow (run at decode)."""


class _Fixed(Message):
    """A message whose payload is exactly one struct, fields in declaration order."""

    __slots__ = ()
    LAYOUT: ClassVar[struct.Struct]

    def encode(self) -> bytes:
        return pack(self.LAYOUT, type(self).__name__, *(getattr(self, f) for f in field_names(type(self))))

    @classmethod
    def decode(cls, payload: bytes) -> Message:
        if len(payload) != cls.LAYOUT.size:
            raise MalformedMessage(f"{cls.__name__}: payload is {len(payload)} bytes, expected {cls.LAYOUT.size}")
        msg = cls(*cls.LAYOUT.unpack(payload))
        msg._validate()
        return msg


# --- session -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hello(_Fixed):
    """Host opens a session: its highest protocol version and the largest payload it accepts."""

    TYPE = MsgType.HELLO
    KIND = Kind.REQUEST
    LAYOUT = struct.Struct("<BH")
    host_version: int = 1
    host_max_payload: int = 4096


@dataclass(frozen=True, slots=True)
class SlotInfo:
    """One model slot as a board reports it."""

    state: int = SlotState.EMPTY
    size: int = 0
    received: int = 0
    sha256: bytes = bytes(SHA256_SIZE)
    name: str = ""
    version: str = ""

    _LAYOUT: ClassVar[struct.Struct] = struct.Struct("<BII32s")

    def encode(self, what: str) -> bytes:
        return (
            pack(self._LAYOUT, what, self.state, self.size, self.received, sha(self.sha256, what))
            + str8(self.name, "slot name", what)
            + str8(self.version, "slot version", what)
        )

    @classmethod
    def read(cls, r: Reader) -> SlotInfo:
        state, size, received, sha = r.unpack(cls._LAYOUT)
        return cls(state, size, received, sha, printable(r.str8("slot name")), printable(r.str8("slot version")))


class _Slots:
    """Shared by messages that carry both slots and the index of the running one."""

    __slots__ = ()
    active_slot: int
    slots: tuple[SlotInfo, SlotInfo]

    @property
    def active(self) -> SlotInfo | None:
        """The running slot, or None when the board has no model."""
        return self.slots[self.active_slot] if self.active_slot < len(self.slots) else None


@dataclass(frozen=True, slots=True)
class Info(_Slots, Message):
    """Board's answer to HELLO: who it is, what it can do, and what its slots hold."""

    TYPE = MsgType.HELLO
    KIND = Kind.RESPONSE
    _LAYOUT: ClassVar[struct.Struct] = struct.Struct("<BBHIIIII")

    proto_version: int
    active_slot: int
    max_payload: int
    capabilities: int
    rx_window: int
    arena_bytes: int
    slot_bytes: int
    cpu_hz: int
    uid: bytes
    board_kind: str
    firmware_version: str
    slots: tuple[SlotInfo, SlotInfo]

    def encode(self) -> bytes:
        what = "Info"
        if len(self.slots) != 2:
            raise MalformedMessage(f"{what}: exactly 2 slots, got {len(self.slots)}")
        fixed = pack(
            self._LAYOUT, what, self.proto_version, self.active_slot, self.max_payload, self.capabilities,
            self.rx_window, self.arena_bytes, self.slot_bytes, self.cpu_hz,
        )  # fmt: skip
        return (
            fixed
            + bytes8(self.uid, "uid", what, MAX_UID)
            + str8(self.board_kind, "board kind", what)
            + str8(self.firmware_version, "firmware version", what)
            + b"".join(s.encode(what) for s in self.slots)
        )

    @classmethod
    def decode(cls, payload: bytes) -> Info:
        r = Reader(payload, "Info")
        fixed = r.unpack(cls._LAYOUT)
        uid = r.bytes8("uid", MAX_UID)
        kind = printable(r.str8("board kind"))
        fw = printable(r.str8("firmware version"))
        slots = (SlotInfo.read(r), SlotInfo.read(r))
        r.done()
        info = cls(*fixed, uid, kind, fw, slots)
        limits.check_max_payload("Info", info.max_payload)
        limits.check_slots("Info", info.active_slot, info.slots, info.slot_bytes)
        return info


@dataclass(frozen=True, slots=True)
class Ping(Message):
    """Round-trip probe; `data` is echoed back (handy for link tests)."""

    TYPE = MsgType.PING
    KIND = Kind.REQUEST
    data: bytes = b""

    def encode(self) -> bytes:
        return self.data

    @classmethod
    def decode(cls, payload: bytes) -> Ping:
        return cls(bytes(payload))


@dataclass(frozen=True, slots=True)
class Pong(Message):
    """Answer to PING: the board's microsecond clock when it answered, and the echo."""

    TYPE = MsgType.PING
    KIND = Kind.RESPONSE
    _LAYOUT: ClassVar[struct.Struct] = struct.Struct("<Q")
    device_time_us: int
    data: bytes = b""

    def encode(self) -> bytes:
        return pack(self._LAYOUT, "Pong", self.device_time_us) + self.data

    @classmethod
    def decode(cls, payload: bytes) -> Pong:
        r = Reader(payload, "Pong")
        (t,) = r.unpack(cls._LAYOUT)
        return cls(t, r.rest())


@dataclass(frozen=True, slots=True)
class StreamConfig(_Fixed):
    """Turn streams on/off and set their rates; intervals in ms (0 = as fast as possible)."""

    TYPE = MsgType.STREAM_CONFIG
    KIND = Kind.REQUEST
    LAYOUT = struct.Struct("<BBHHB")
    streams: int = Stream.NONE
    log_level: int = LogLevel.INFO
    result_interval_ms: int = 0
    power_interval_ms: int = 100
    top_k: int = 0  # 0: send the whole output tensor


@dataclass(frozen=True, slots=True)
class StreamConfigAck(StreamConfig):
    """The configuration the board applied (it may clamp rates)."""

    KIND = Kind.RESPONSE

    def _validate(self) -> None:
        limits.check_bits("StreamConfigAck", "streams", self.streams, Stream.RESULTS | Stream.POWER | Stream.LOG)
        limits.at_most("StreamConfigAck", "log_level", self.log_level, max(LogLevel), "3 (ERROR)")


@dataclass(frozen=True, slots=True)
class Reboot(_Fixed):
    """Ask the board to reboot after answering. RAM state is lost, slots are kept."""

    TYPE = MsgType.REBOOT
    KIND = Kind.REQUEST
    LAYOUT = struct.Struct("<B")
    mode: int = 0


@dataclass(frozen=True, slots=True)
class RebootAck(_Fixed):
    TYPE = MsgType.REBOOT
    KIND = Kind.RESPONSE
    LAYOUT = struct.Struct("<")


@dataclass(frozen=True, slots=True)
class Runtime(_Fixed):
    """Ask what the board's runtime can run (boards that declare `Capability.RUNTIME`)."""

    TYPE = MsgType.RUNTIME
    KIND = Kind.REQUEST
    LAYOUT = struct.Struct("<")


@dataclass(frozen=True, slots=True)
class RuntimeInfo(Message):
    """The board's inference runtime and every operator it can run.

    `builtins` are TFLite BuiltinOperator codes, `customs` custom operator names; both are
    sets on the wire (no duplicates, order carries no meaning) and kept in wire order here.
    """

    TYPE = MsgType.RUNTIME
    KIND = Kind.RESPONSE
    runtime: str
    builtins: tuple[int, ...] = ()
    customs: tuple[str, ...] = ()

    def encode(self) -> bytes:
        what = "RuntimeInfo"
        _check_operators(self.runtime, self.builtins, self.customs, what)
        return (
            str8(self.runtime, "runtime", what)
            + pack(U16, what, len(self.builtins))
            + b"".join(pack(U16, what, code) for code in self.builtins)
            + pack(U8, what, len(self.customs))
            + b"".join(str8(name, "custom operator name", what, MAX_OP_NAME) for name in self.customs)
        )

    @classmethod
    def decode(cls, payload: bytes) -> RuntimeInfo:
        what = "RuntimeInfo"
        r = Reader(payload, what)
        runtime = r.str8("runtime")
        (count,) = r.unpack(U16)
        left = len(payload) - r.pos
        if 2 * count > left:
            raise MalformedMessage(f"{what}: {count} builtin operator codes need {2 * count} bytes, {left} left")
        builtins = struct.unpack_from(f"<{count}H", payload, r.pos)
        r.pos += 2 * count
        (n_customs,) = r.unpack(U8)
        customs = tuple(r.str8(f"custom operator name {i}", MAX_OP_NAME) for i in range(n_customs))
        r.done()
        _check_operators(runtime, builtins, customs, what)
        return cls(runtime, builtins, customs)



def _check_operators(runtime: str, builtins: tuple[int, ...], customs: tuple[str, ...], what: str) -> None:
    """The rules both directions enforce: sets without repeats, CUSTOM only by name, counts that fit,
    names without control characters."""
    if len(builtins) > 0xFFFF:
        raise MalformedMessage(f"{what}: {len(builtins)} builtin operators, at most 65535")
    if len(customs) > 0xFF:
        raise MalformedMessage(f"{what}: {len(customs)} custom operators, at most 255")
    if len(set(builtins)) != len(builtins):
        twice = next(code for code in builtins if builtins.count(code) > 1)
        raise MalformedMessage(f"{what}: builtin operator code {twice} is listed twice")
    if CUSTOM_OPERATOR in builtins:
        raise MalformedMessage(f"{what}: builtin code {CUSTOM_OPERATOR} (CUSTOM) is not an operator; customs go by name")
    if len(set(customs)) != len(customs):
        twice = next(name for name in customs if customs.count(name) > 1)
        raise MalformedMessage(f"{what}: custom operator {twice!r} is listed twice")
    if "" in customs:
        raise MalformedMessage(f"{what}: a custom operator name is empty")
    for name in (runtime, *customs):
        bad = next((ch for ch in name if unicodedata.category(ch) == "Cc"), None)
        if bad is not None:  # names end up on terminals; firmware keeps them as C strings
            raise MalformedMessage(f"{what}: {name!r} contains the control character U+{ord(bad):04X}")


# --- model upload --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModelBegin(Message):
    """Start (or resume) an upload of `size` bytes with hash `sha256` into `slot`."""

    TYPE = MsgType.MODEL_BEGIN
    KIND = Kind.REQUEST
    _LAYOUT: ClassVar[struct.Struct] = struct.Struct("<BI32s")
    slot: int
    size: int
    sha256: bytes
    name: str = ""
    version: str = ""

    def encode(self) -> bytes:
        what = "ModelBegin"
        return (
            pack(self._LAYOUT, what, self.slot, self.size, sha(self.sha256, what))
            + str8(self.name, "name", what)
            + str8(self.version, "version", what)
        )

    @classmethod
    def decode(cls, payload: bytes) -> ModelBegin:
        r = Reader(payload, "ModelBegin")
        slot, size, sha = r.unpack(cls._LAYOUT)
        msg = cls(slot, size, sha, r.str8("name"), r.str8("version"))
        r.done()
        return msg


@dataclass(frozen=True, slots=True)
class BeginAck(_Fixed):
    """The slot that will receive the model and the offset the board already holds."""

    TYPE = MsgType.MODEL_BEGIN
    KIND = Kind.RESPONSE
    LAYOUT = struct.Struct("<BI")
    slot: int
    offset: int

    def _validate(self) -> None:
        limits.check_slot_index("BeginAck", self.slot)


@dataclass(frozen=True, slots=True)
class _OffsetData(Message):
    """A u32 offset, then data to the end of the payload (MODEL_CHUNK, MODEL_DATA)."""

    _LAYOUT: ClassVar[struct.Struct] = struct.Struct("<I")
    offset: int
    data: bytes

    def encode(self) -> bytes:
        return pack(self._LAYOUT, type(self).__name__, self.offset) + self.data

    @classmethod
    def decode(cls, payload: bytes) -> _OffsetData:
        r = Reader(payload, cls.__name__)
        (offset,) = r.unpack(cls._LAYOUT)
        return cls(offset, r.rest())


@dataclass(frozen=True, slots=True)
class ModelChunk(_OffsetData):
    """Model bytes at `offset`; the rest of the payload is data."""

    TYPE = MsgType.MODEL_CHUNK
    KIND = Kind.REQUEST


@dataclass(frozen=True, slots=True)
class ChunkAck(_Fixed):
    """Cumulative ACK: the board holds every byte below `next_offset`."""

    TYPE = MsgType.MODEL_CHUNK
    KIND = Kind.RESPONSE
    LAYOUT = struct.Struct("<I")
    next_offset: int


@dataclass(frozen=True, slots=True)
class ModelStream(_Fixed):
    """Switch the upload in progress to an encoded stream (boards with `Capability.DEFLATE`).

    `base_slot` (0xFF for none) is the slot COPY blocks read, `base_sha256` what the host
    believes it holds; the board refuses a base that does not match (BASE_MISMATCH).
    """

    TYPE = MsgType.MODEL_STREAM
    KIND = Kind.REQUEST
    LAYOUT = struct.Struct("<BB32s")
    encoding: int = ENCODING_BLOCKS
    base_slot: int = NO_SLOT
    base_sha256: bytes = bytes(SHA256_SIZE)


@dataclass(frozen=True, slots=True)
class StreamAck(_Fixed):
    """The model offset where the new stream starts (the slot's received count)."""

    TYPE = MsgType.MODEL_STREAM
    KIND = Kind.RESPONSE
    LAYOUT = struct.Struct("<I")
    offset: int


@dataclass(frozen=True, slots=True)
class ModelData(_OffsetData):
    """Encoded stream bytes at stream offset `offset`; the rest of the payload is data."""

    TYPE = MsgType.MODEL_DATA
    KIND = Kind.REQUEST


@dataclass(frozen=True, slots=True)
class DataAck(_Fixed):
    """Cumulative ACK of a stream: stream bytes decoded, and model bytes the slot holds."""

    TYPE = MsgType.MODEL_DATA
    KIND = Kind.RESPONSE
    LAYOUT = struct.Struct("<II")
    next_offset: int
    received: int


@dataclass(frozen=True, slots=True)
class ModelCommit(_Fixed):
    """Verify the slot's sha256 and test-load the model."""

    TYPE = MsgType.MODEL_COMMIT
    KIND = Kind.REQUEST
    LAYOUT = struct.Struct("<B")
    slot: int


@dataclass(frozen=True, slots=True)
class CommitAck(_Fixed):
    """The model verified and loaded; `arena_used` is what its tensors need on this board."""

    TYPE = MsgType.MODEL_COMMIT
    KIND = Kind.RESPONSE
    LAYOUT = struct.Struct("<BI")
    slot: int
    arena_used: int

    def _validate(self) -> None:
        limits.check_slot_index("CommitAck", self.slot)


@dataclass(frozen=True, slots=True)
class ModelActivate(_Fixed):
    """Run the model in `slot`: in TEST mode until confirmed, or PERMANENT at once."""

    TYPE = MsgType.MODEL_ACTIVATE
    KIND = Kind.REQUEST
    LAYOUT = struct.Struct("<BB")
    slot: int
    mode: int = ActivateMode.TEST


@dataclass(frozen=True, slots=True)
class ModelConfirm(_Fixed):
    """Make the pending model in `slot` the one the board boots with."""

    TYPE = MsgType.MODEL_CONFIRM
    KIND = Kind.REQUEST
    LAYOUT = struct.Struct("<B")
    slot: int


@dataclass(frozen=True, slots=True)
class ModelRollback(_Fixed):
    """Abandon a pending model and run the previous one (no-op when nothing is pending)."""

    TYPE = MsgType.MODEL_ROLLBACK
    KIND = Kind.REQUEST
    LAYOUT = struct.Struct("<")


@dataclass(frozen=True, slots=True)
class SlotStatus(_Slots, Message):
    """The running slot and both slots' state: the response to ACTIVATE, CONFIRM and ROLLBACK."""

    KIND = Kind.RESPONSE
    _LAYOUT: ClassVar[struct.Struct] = struct.Struct("<B")
    active_slot: int
    slots: tuple[SlotInfo, SlotInfo]

    def encode(self) -> bytes:
        what = type(self).__name__
        if len(self.slots) != 2:
            raise MalformedMessage(f"{what}: exactly 2 slots, got {len(self.slots)}")
        return pack(self._LAYOUT, what, self.active_slot) + b"".join(s.encode(what) for s in self.slots)

    @classmethod
    def decode(cls, payload: bytes) -> SlotStatus:
        r = Reader(payload, cls.__name__)
        (active,) = r.unpack(cls._LAYOUT)
        slots = (SlotInfo.read(r), SlotInfo.read(r))
        r.done()
        limits.check_slots(cls.__name__, active, slots)
        return cls(active, slots)


@dataclass(frozen=True, slots=True)
class ActivateAck(SlotStatus):
    TYPE = MsgType.MODEL_ACTIVATE


@dataclass(frozen=True, slots=True)
class ConfirmAck(SlotStatus):
    TYPE = MsgType.MODEL_CONFIRM


@dataclass(frozen=True, slots=True)
class RollbackAck(SlotStatus):
    TYPE = MsgType.MODEL_ROLLBACK


# --- events --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InferResult(Message):
    """One inference: when, how long, on which input, with which model, and its output.

    The output's quantization (scale, zero point) travels with it so a host that has never
    seen the model file can still dequantize.
    """

    TYPE = MsgType.INFER_RESULT
    KIND = Kind.EVENT
    _LAYOUT: ClassVar[struct.Struct] = struct.Struct("<QIII4sBBfi")
    device_time_us: int
    latency_us: int
    inference_count: int
    input_id: int
    model_prefix: bytes
    dtype: int  # TFLite TensorType code of the output tensor (9 = int8)
    format: int
    scale: float
    zero_point: int
    data: bytes

    def encode(self) -> bytes:
        what = "InferResult"
        fixed = pack(
            self._LAYOUT, what, self.device_time_us, self.latency_us, self.inference_count, self.input_id,
            sha(self.model_prefix, what, MODEL_PREFIX_SIZE), self.dtype, self.format, self.scale, self.zero_point,
        )  # fmt: skip
        return fixed + self.data

    @classmethod
    def decode(cls, payload: bytes) -> InferResult:
        r = Reader(payload, "InferResult")
        fixed = r.unpack(cls._LAYOUT)
        result = cls(*fixed, r.rest())
        limits.at_most("InferResult", "format", result.format, max(OutputFormat), "1 (TOPK)")
        return result


@dataclass(frozen=True, slots=True)
class Power(_Fixed):
    """A power sample: supply voltage, current, and energy used since boot."""

    TYPE = MsgType.POWER
    KIND = Kind.EVENT
    LAYOUT = struct.Struct("<QHIQ")
    device_time_us: int
    voltage_mv: int
    current_ua: int
    energy_uj: int

    @property
    def power_mw(self) -> float:
        return self.voltage_mv * self.current_ua / 1e6


@dataclass(frozen=True, slots=True)
class Log(Message):
    """A log line from the board. Text is UTF-8; invalid bytes are replaced on receipt."""

    TYPE = MsgType.LOG
    KIND = Kind.EVENT
    _LAYOUT: ClassVar[struct.Struct] = struct.Struct("<QB")
    device_time_us: int
    level: int
    text: str

    def encode(self) -> bytes:
        return pack(self._LAYOUT, "Log", self.device_time_us, self.level) + self.text.encode("utf-8")

    @classmethod
    def decode(cls, payload: bytes) -> Log:
        r = Reader(payload, "Log")
        t, level = r.unpack(cls._LAYOUT)
        limits.at_most("Log", "level", level, max(LogLevel), "3 (ERROR)")
        return cls(t, level, printable(r.rest().decode("utf-8", errors="replace")))


@dataclass(frozen=True, slots=True)
class Boot(_Fixed):
    """Sent once after every boot, so the host learns of resets it did not ask for."""

    TYPE = MsgType.BOOT
    KIND = Kind.EVENT
    LAYOUT = struct.Struct("<BI")
    reason: int
    boot_count: int

    def _validate(self) -> None:
        limits.at_most("Boot", "reason", self.reason, max(BootReason), "3 (FAULT)")


# --- errors --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Error(Message):
    """ERROR response to any request: sent with the request's type and seq and the
    RESPONSE|ERROR flags. `detail` is a number that makes the code precise (the expected
    offset, the arena bytes needed...)."""

    KIND = Kind.RESPONSE
    _LAYOUT: ClassVar[struct.Struct] = struct.Struct("<HI")
    code: int
    detail: int = 0
    text: str = ""

    def encode(self) -> bytes:
        return pack(self._LAYOUT, "Error", self.code, self.detail) + self.text.encode("utf-8")

    @classmethod
    def decode(cls, payload: bytes) -> Error:
        r = Reader(payload, "Error")
        code, detail = r.unpack(cls._LAYOUT)
        return cls(code, detail, printable(r.rest().decode("utf-8", errors="replace")))


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
