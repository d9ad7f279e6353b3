"""A minimal, bounds-checked FlatBuffers reader: just what reading a .tflite file needs.

Why not the generated schema module and the `flatbuffers` package: the generated code trusts
its input, so a truncated or hostile file raises IndexError, struct.error or worse from deep
inside, and it would make inspection depend on tflite-micro. Here every offset is checked
against the buffer before it is followed, and every failure is a `ModelError` naming the field, so callers can
hand us arbitrary bytes.

FlatBuffers layout in brief (all little-endian): a buffer starts with a uoffset (u32) to the
root table. A table starts with an soffset (i32); table position minus it is the table's
vtable: u16 vtable size, u16 table size, then one u16 per field giving the field's offset
inside the table (0 = absent, use the default). Offsets to sub-tables, vectors and strings
are u32 relative to where they are stored. A vector is a u32 element count followed by the
elements; a string is a vector of bytes (plus a NUL we do not need).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from fleet.errors import ModelError

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")


@dataclass(frozen=True, slots=True)
class Buffer:
    """The raw bytes with checked primitive reads."""

    data: bytes

    def unpack(self, fmt: struct.Struct, pos: int, what: str) -> tuple:
        if pos < 0 or pos + fmt.size > len(self.data):
            raise ModelError(f"{what} at byte {pos} lies outside the {len(self.data)}-byte file")
        return fmt.unpack_from(self.data, pos)

    def follow(self, pos: int, what: str) -> int:
        """The absolute position a uoffset stored at `pos` points to."""
        (rel,) = self.unpack(_U32, pos, what)
        target = pos + rel
        if target >= len(self.data):
            raise ModelError(f"{what} at byte {pos} points past the end of the file")
        return target

    def root(self, what: str = "root table") -> Table:
        """The root table; `what` names it in error messages (e.g. "Model")."""
        return Table.at(self, self.follow(0, f"{what} offset"), what)


@dataclass(frozen=True, slots=True)
class Table:
    """One table: resolves field numbers to positions through its vtable."""

    buf: Buffer
    pos: int
    vtable: int
    vtable_size: int
    what: str

    @classmethod
    def at(cls, buf: Buffer, pos: int, what: str) -> Table:
        (soffset,) = buf.unpack(_I32, pos, f"{what} header")
        vtable = pos - soffset
        vtable_size, _table_size = buf.unpack(struct.Struct("<HH"), vtable, f"{what} vtable")
        if vtable_size < 4 or vtable_size % 2 or vtable + vtable_size > len(buf.data):
            raise ModelError(f"{what} has a malformed vtable at byte {vtable}")
        return cls(buf, pos, vtable, vtable_size, what)

    def field_position(self, index: int) -> int | None:
        """Absolute position of field `index`, or None when the field is absent (default)."""
        entry = 4 + 2 * index
        if entry + 2 > self.vtable_size:
            return None
        (offset,) = self.buf.unpack(_U16, self.vtable + entry, f"{self.what} vtable entry")
        return self.pos + offset if offset else None

    def scalar(self, index: int, fmt: str, default: int | float, name: str) -> int | float:
        pos = self.field_position(index)
        if pos is None:
            return default
        return self.buf.unpack(struct.Struct("<" + fmt), pos, f"{self.what}.{name}")[0]

    def table(self, index: int, name: str) -> Table | None:
        pos = self.field_position(index)
        if pos is None:
            return None
        return Table.at(self.buf, self.buf.follow(pos, f"{self.what}.{name}"), f"{self.what}.{name}")

    def _vector(self, index: int, elem_size: int, name: str) -> tuple[int, int] | None:
        """(position of the first element, element count), checked to fit in the buffer."""
        pos = self.field_position(index)
        if pos is None:
            return None
        what = f"{self.what}.{name}"
        start = self.buf.follow(pos, what)
        (count,) = self.buf.unpack(_U32, start, f"{what} length")
        first = start + 4
        if first + count * elem_size > len(self.buf.data):
            raise ModelError(f"{what} claims {count} elements, more than the file holds")
        return first, count

    def vector_span(self, index: int, elem_size: int, name: str) -> tuple[int, int] | None:
        """Where a vector's elements lie: (position of the first, count), or None when absent."""
        return self._vector(index, elem_size, name)

    def string(self, index: int, name: str) -> str | None:
        vec = self._vector(index, 1, name)
        if vec is None:
            return None
        first, count = vec
        return self.buf.data[first : first + count].decode("utf-8", errors="replace")

    def scalars(self, index: int, fmt: str, name: str) -> tuple:
        """A vector of scalars (struct format char `fmt`), empty when absent."""
        elem = struct.Struct("<" + fmt)
        vec = self._vector(index, elem.size, name)
        if vec is None:
            return ()
        first, count = vec
        return struct.unpack_from(f"<{count}{fmt}", self.buf.data, first)

    def tables(self, index: int, name: str) -> list[Table]:
        """A vector of tables, empty when absent."""
        vec = self._vector(index, 4, name)
        if vec is None:
            return []
        first, count = vec
        what = f"{self.what}.{name}"
        return [
            Table.at(self.buf, self.buf.follow(first + 4 * i, f"{what}[{i}]"), f"{what}[{i}]") for i in range(count)
        ]
