"""Payload encoding helpers shared by the message classes: bounds-checked reads, packing
that turns range errors into MalformedMessage, and length-prefixed strings (`str8`)."""

from __future__ import annotations

import struct
from dataclasses import fields
from functools import cache

from fleet.errors import MalformedMessage
from fleet.protocol.values import MAX_NAME, SHA256_SIZE


class Reader:
    """Cursor over a payload; every read checks bounds and raises MalformedMessage."""

    __slots__ = ("data", "pos", "what")

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what

    def unpack(self, st: struct.Struct) -> tuple:
        if self.pos + st.size > len(self.data):
            raise MalformedMessage(f"{self.what}: payload of {len(self.data)} bytes is too short")
        values = st.unpack_from(self.data, self.pos)
        self.pos += st.size
        return values

    def str8(self, field: str, limit: int = MAX_NAME) -> str:
        raw = self.bytes8(field, limit)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedMessage(f"{self.what}: {field} is not valid UTF-8") from None

    def bytes8(self, field: str, limit: int) -> bytes:
        (n,) = self.unpack(U8)
        if n > limit:
            raise MalformedMessage(f"{self.what}: {field} is {n} bytes, the limit is {limit}")
        if self.pos + n > len(self.data):
            raise MalformedMessage(f"{self.what}: {field} runs past the end of the payload")
        raw = self.data[self.pos : self.pos + n]
        self.pos += n
        return raw

    def rest(self) -> bytes:
        raw = self.data[self.pos :]
        self.pos = len(self.data)
        return raw

    def done(self) -> None:
        if self.pos != len(self.data):
            raise MalformedMessage(f"{self.what}: {len(self.data) - self.pos} unexpected trailing bytes")


def pack(st: struct.Struct, what: str, *values: object) -> bytes:
    try:
        return st.pack(*values)
    except struct.error as exc:
        raise MalformedMessage(f"{what}: field out of range ({exc})") from None


def str8(value: str, field: str, what: str, limit: int = MAX_NAME) -> bytes:
    return bytes8(value.encode("utf-8"), field, what, limit)


def bytes8(raw: bytes, field: str, what: str, limit: int) -> bytes:
    if len(raw) > limit:
        raise MalformedMessage(f"{what}: {field} is {len(raw)} bytes, the limit is {limit}")
    return bytes([len(raw)]) + raw


def sha(value: bytes, what: str, size: int = SHA256_SIZE) -> bytes:
    if len(value) != size:
        raise MalformedMessage(f"{what}: hash must be {size} bytes, got {len(value)}")
    return value


U8 = struct.Struct("<B")


@cache
def field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))
