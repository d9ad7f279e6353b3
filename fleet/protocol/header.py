"""The 8-byte frame header (PROTOCOL.md, "Header")."""

from __future__ import annotations

import struct
from enum import IntEnum, IntFlag
from typing import NamedTuple

PROTOCOL_VERSION = 1

HEADER = struct.Struct("<BBBBHH")
HEADER_SIZE = HEADER.size  # 8


class MsgType(IntEnum):
    """Message type codes. Requests (host -> board) and their responses share a code;
    codes 0x20 and above are unsolicited board events."""

    HELLO = 0x01
    PING = 0x02
    STREAM_CONFIG = 0x03
    REBOOT = 0x04
    RUNTIME = 0x05
    MODEL_BEGIN = 0x10
    MODEL_CHUNK = 0x11
    MODEL_COMMIT = 0x12
    MODEL_ACTIVATE = 0x13
    MODEL_CONFIRM = 0x14
    MODEL_ROLLBACK = 0x15
    MODEL_STREAM = 0x16
    MODEL_DATA = 0x17
    INFER_RESULT = 0x20
    POWER = 0x21
    LOG = 0x22
    BOOT = 0x23


class Flags(IntFlag):
    """Header flag bits. Undefined bits are sent as 0 and ignored on receipt."""

    NONE = 0
    RESPONSE = 0x01
    ERROR = 0x02


# Plain ints for the per-frame tests: `IntFlag.__and__` costs microseconds, paid on every frame.
_RESPONSE = int(Flags.RESPONSE)
_ERROR = int(Flags.ERROR)


class Header(NamedTuple):
    """Frame header: protocol version, message type, flags, sequence number, payload length.

    A named tuple rather than a frozen dataclass: one is built for every frame received,
    and a frozen dataclass costs four times as much to build."""

    type: int
    seq: int = 0
    flags: int = 0
    length: int = 0
    version: int = PROTOCOL_VERSION
    reserved: int = 0

    @property
    def is_response(self) -> bool:
        return bool(self.flags & _RESPONSE)

    @property
    def is_error(self) -> bool:
        return bool(self.flags & _ERROR)

    def pack(self) -> bytes:
        return HEADER.pack(self.version, self.type, self.flags, self.reserved, self.seq, self.length)

    @classmethod
    def unpack(cls, data: bytes | bytearray | memoryview) -> Header:
        version, type_, flags, reserved, seq, length = HEADER.unpack_from(data)
        return _new_header(cls, (type_, seq, flags, length, version, reserved))


_new_header = tuple.__new__
