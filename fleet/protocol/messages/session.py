"""Session messages: HELLO/INFO, PING/PONG, STREAM_CONFIG and REBOOT (PROTOCOL.md, "Messages")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fleet.protocol import limits
from fleet.protocol.header import MsgType
from fleet.protocol.messages.base import Message, Slots, SlotsHolder
from fleet.protocol.values import MAX_LOG_LEVEL, MAX_UID, Kind, LogLevel, Stream
from fleet.protocol.wire import Bytes8, blob, text8, u8, u16, u32, u64


@dataclass(frozen=True, slots=True)
class Hello(Message):
    """Host opens a session: its highest protocol version and the largest payload it accepts."""

    TYPE = MsgType.HELLO
    KIND = Kind.REQUEST
    host_version: u8 = 1
    host_max_payload: u16 = 4096


@dataclass(frozen=True, slots=True)
class Info(SlotsHolder, Message):
    """Board's answer to HELLO: who it is, what it can do, and what its slots hold."""

    TYPE = MsgType.HELLO
    KIND = Kind.RESPONSE
    proto_version: u8
    active_slot: u8
    max_payload: u16
    capabilities: u32
    rx_window: u32
    arena_bytes: u32
    slot_bytes: u32
    cpu_hz: u32
    uid: Annotated[bytes, Bytes8(MAX_UID)]
    board_kind: text8
    firmware_version: text8
    slots: Slots

    def _validate(self) -> None:
        limits.check_max_payload("Info", self.max_payload)
        limits.check_slots("Info", self.active_slot, self.slots, self.slot_bytes)


@dataclass(frozen=True, slots=True)
class Ping(Message):
    """Round-trip probe; `data` is echoed back (handy for link tests)."""

    TYPE = MsgType.PING
    KIND = Kind.REQUEST
    data: blob = b""


@dataclass(frozen=True, slots=True)
class Pong(Message):
    """Answer to PING: the board's microsecond clock when it answered, and the echo."""

    TYPE = MsgType.PING
    KIND = Kind.RESPONSE
    device_time_us: u64
    data: blob = b""


@dataclass(frozen=True, slots=True)
class StreamConfig(Message):
    """Turn streams on/off and set their rates; intervals in ms (0 = as fast as possible)."""

    TYPE = MsgType.STREAM_CONFIG
    KIND = Kind.REQUEST
    streams: u8 = Stream.NONE
    log_level: u8 = LogLevel.INFO
    result_interval_ms: u16 = 0
    power_interval_ms: u16 = 100
    top_k: u8 = 0  # 0: send the whole output tensor


@dataclass(frozen=True, slots=True)
class StreamConfigAck(StreamConfig):
    """The configuration the board applied (it may clamp rates)."""

    KIND = Kind.RESPONSE

    def _validate(self) -> None:
        limits.check_bits("StreamConfigAck", "streams", self.streams, Stream.RESULTS | Stream.POWER | Stream.LOG)
        limits.at_most("StreamConfigAck", "log_level", self.log_level, MAX_LOG_LEVEL, "3 (ERROR)")


@dataclass(frozen=True, slots=True)
class Reboot(Message):
    """Ask the board to reboot after answering. RAM state is lost, slots are kept."""

    TYPE = MsgType.REBOOT
    KIND = Kind.REQUEST
    mode: u8 = 0


@dataclass(frozen=True, slots=True)
class RebootAck(Message):
    TYPE = MsgType.REBOOT
    KIND = Kind.RESPONSE
