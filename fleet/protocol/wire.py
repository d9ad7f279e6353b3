"""The vocabulary of the message table: how one field travels on the wire.

A message class declares each field with its wire type as `typing.Annotated` metadata
(`host_version: u8 = 1`, `sha256: digest`). That declaration is the
single source of every payload layout: `fleet.protocol.layout` compiles it into the Python
codec, and `tools/gen_c_codec.py` turns the same table into the firmware's C structs and
layout tables (firmware/core/fw_proto.h, fw_layouts.c). To add a message or a field, edit
the class and run the generator.

All multi-byte values are little-endian.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fleet.protocol.values import MAX_NAME, SHA256_SIZE


class WireType:
    """Base of the field types below."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Scalar(WireType):
    """A fixed-size number; `code` is its `struct` format character."""

    code: str  # B H I Q (unsigned 8..64 bits), i (signed 32), f (IEEE-754 binary32)


@dataclass(frozen=True, slots=True)
class Fixed(WireType):
    """Exactly `size` bytes (a hash or a hash prefix)."""

    size: int


@dataclass(frozen=True, slots=True)
class Str8(WireType):
    """u8 length + that many bytes of UTF-8, at most `limit`. `printable`: text a board
    sends, made printable as it is decoded (`fleet.printable`)."""

    limit: int = MAX_NAME
    printable: bool = False


@dataclass(frozen=True, slots=True)
class Bytes8(WireType):
    """u8 length + that many raw bytes, at most `limit`."""

    limit: int


@dataclass(frozen=True, slots=True)
class Rest(WireType):
    """Everything up to the end of the payload; only as the last field. `text`: UTF-8 text,
    invalid bytes replaced and control characters made printable on receipt."""

    text: bool = False


@dataclass(frozen=True, slots=True)
class Nested(WireType):
    """`count` structs of class `struct` (itself a table with wire-typed fields), back to back."""

    struct: type
    count: int
    label: str  # names the items in errors ("slot 1 name")


@dataclass(frozen=True, slots=True)
class List(WireType):
    """A count of type `count`, then that many `item`s."""

    count: Scalar
    item: Scalar | Str8


U8 = Scalar("B")
U16 = Scalar("H")
U32 = Scalar("I")
U64 = Scalar("Q")
I32 = Scalar("i")
F32 = Scalar("f")

# The annotations message classes use.
u8 = Annotated[int, U8]
u16 = Annotated[int, U16]
u32 = Annotated[int, U32]
u64 = Annotated[int, U64]
i32 = Annotated[int, I32]
f32 = Annotated[float, F32]
digest = Annotated[bytes, Fixed(SHA256_SIZE)]  # a sha256
str8 = Annotated[str, Str8()]
text8 = Annotated[str, Str8(printable=True)]  # a board's name for something
blob = Annotated[bytes, Rest()]
rest_text = Annotated[str, Rest(text=True)]
