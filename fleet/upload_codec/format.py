"""Byte layout of an encoded upload stream (PROTOCOL.md 10.2)."""

from __future__ import annotations

import struct
from enum import IntEnum

WINDOW = 32768  # deflate's longest distance: how far below a block its history reaches
MAX_BLOCK_OUTPUT = 16384  # what host encoders put in one block (the format allows 65535)
MAX_FIELD = 0xFFFF

DEFLATE_HEADER = struct.Struct("<BHH")  # kind, out_len, in_len
COPY_HEADER = struct.Struct("<BHI")  # kind, out_len, src


class BlockKind(IntEnum):
    DEFLATE = 0x01
    COPY = 0x02


def header_size(kind: int) -> int | None:
    """Bytes of the header of a block of `kind`, or None for a kind the format does not define."""
    if kind == BlockKind.DEFLATE:
        return DEFLATE_HEADER.size
    if kind == BlockKind.COPY:
        return COPY_HEADER.size
    return None
