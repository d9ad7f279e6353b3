"""The message table compiled into a codec: each class's wire-typed fields
(`fleet.protocol.wire`) become one `Layout` that encodes and strictly decodes its payload.

Decoding is strict: a payload shorter or longer than its layout is malformed, and every
error names the message and the field. Leading fixed-size fields are read with one
precompiled `struct.Struct`, so the common fixed (POWER) and fixed-plus-tail (INFER_RESULT)
payloads cost one unpack.
"""

from __future__ import annotations

import operator
import struct
import typing
from collections.abc import Callable
from typing import Any, ClassVar

from fleet.errors import MalformedMessage
from fleet.printable import printable
from fleet.protocol.wire import Bytes8, Fixed, List, Nested, Rest, Scalar, Str8, WireType

Field = tuple[str, WireType]


class Table:
    """Base of classes whose fields are wire-typed: each subclass gets `WIRE`, its Layout."""

    __slots__ = ()
    WIRE: ClassVar[Layout]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "WIRE" not in cls.__dict__:  # dataclass(slots=True) re-creates the class: compile once
            cls.WIRE = Layout(cls.__name__, wire_fields(cls))


def wire_fields(cls: type) -> tuple[Field, ...]:
    """The class's fields with their wire types, in dataclass order (bases first)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    out: dict[str, WireType] = {}
    for klass in reversed(cls.__mro__):
        if not issubclass(klass, Table):
            continue
        for name in klass.__dict__.get("__annotations__", {}):
            hint = hints[name]
            if typing.get_origin(hint) is ClassVar:
                continue
            wire = [m for m in getattr(hint, "__metadata__", ()) if isinstance(m, WireType)]
            if len(wire) != 1:
                raise TypeError(f"{cls.__name__}.{name}: annotate the field with exactly one wire type")
            out[name] = wire[0]
    fields = tuple(out.items())
    if any(isinstance(t, Rest) for _, t in fields[:-1]):
        raise TypeError(f"{cls.__name__}: a Rest field must be the last one")
    return fields


def label(name: str) -> str:
    return name.replace("_", " ")


def struct_code(t: Scalar | Fixed) -> str:
    return t.code if isinstance(t, Scalar) else f"{t.size}s"


class Layout:
    """Encoder and decoder of one table class's payload."""

    __slots__ = (
        "what", "fields", "names", "head", "head_size", "tail", "_n_head", "_fixed", "_readers", "_writers", "_text_rest",
        "_get", "decode", "encode",
    )  # fmt: skip

    def __init__(self, what: str, fields: tuple[Field, ...]) -> None:
        self.what = what
        self.fields = fields
        self.names = tuple(name for name, _ in fields)
        n = next((i for i, (_, t) in enumerate(fields) if not isinstance(t, Scalar | Fixed)), len(fields))
        self.head = struct.Struct("<" + "".join(struct_code(t) for _, t in fields[:n]))  # type: ignore[arg-type]
        self.head_size = self.head.size  # bytes before the first variable-length field
        self._n_head = n
        self._fixed = tuple((i, label(name), t.size) for i, (name, t) in enumerate(fields[:n]) if isinstance(t, Fixed))
        self.tail = tail = fields[n:]  # the fields after `head`: variable-length, read one by one
        self._readers = tuple((label(name), _reader(t)) for name, t in tail)
        self._writers = tuple((label(name), _writer(t)) for name, t in tail)
        self._get = operator.attrgetter(*self.names) if self.names else None
        self._text_rest = bool(tail) and tail[-1][1] == Rest(text=True)
        self.decode: Callable[[bytes], tuple[Any, ...]]
        if not tail:
            self.decode = self._decode_exact
        elif len(tail) == 1 and isinstance(tail[0][1], Rest):
            self.decode = self._decode_head_rest
        else:
            self.decode = self._decode_general
        self.encode: Callable[[object], bytes] = self._encode_general
        if not tail or (len(tail) == 1 and tail[0][1] == Rest()):
            self.encode = self._compile_encode()

    # --- decoding: payload -> field values in declaration order -----------------------

    def _decode_exact(self, payload: bytes) -> tuple[Any, ...]:
        if len(payload) != self.head_size:
            raise MalformedMessage(f"{self.what}: payload is {len(payload)} bytes, expected {self.head_size}")
        return self.head.unpack(payload)

    def _decode_head_rest(self, payload: bytes) -> tuple[Any, ...]:
        if len(payload) < self.head_size:
            raise MalformedMessage(f"{self.what}: payload of {len(payload)} bytes is too short")
        rest = bytes(payload[self.head_size :])
        if self._text_rest:
            return (*self.head.unpack_from(payload), printable(rest.decode("utf-8", errors="replace")))
        return (*self.head.unpack_from(payload), rest)

    def _decode_general(self, payload: bytes) -> tuple[Any, ...]:
        r = Reader(payload, self.what)
        values = self.read(r)
        r.done()
        return values

    def read(self, r: Reader, prefix: str = "") -> tuple[Any, ...]:
        """The fields at the reader's position (a nested struct, or a whole payload)."""
        return (*r.unpack(self.head), *(read(r, prefix + name) for name, read in self._readers))

    def values(self, obj: object) -> tuple[Any, ...]:
        """`obj`'s field values in declaration order (what `decode` returns)."""
        if self._get is None:
            return ()
        return self._get(obj) if len(self.names) > 1 else (self._get(obj),)

    # --- encoding ----------------------------------------------------------------------

    def _encode_general(self, obj: object) -> bytes:
        what, n = self.what, self._n_head
        values = self.values(obj)
        self._check_fixed(values)
        head = pack(self.head, what, *values[:n]) if n else b""
        return head + b"".join(write(v, name, what) for (name, write), v in zip(self._writers, values[n:], strict=True))

    def _check_fixed(self, values: tuple[Any, ...]) -> None:
        for i, name, size in self._fixed:
            if len(values[i]) != size:
                wrong_size(self.what, name, size, values[i])

    def _compile_encode(self) -> Callable[[object], bytes]:
        """A straight-line encoder for the layouts of every per-inference message (fixed
        fields, then optionally raw bytes to the end), as fast as a hand-written one."""
        args = ", ".join(f"obj.{name}" for name in self.names[: self._n_head])
        body = f"pack(head, what, {args})" if args else 'b""'
        if len(self.names) > self._n_head:
            body += f" + bytes(obj.{self.names[-1]})"
        lines = ["def encode(obj):"]
        for i, name, size in self._fixed:
            value = f"obj.{self.names[i]}"
            lines.append(f"    if len({value}) != {size}: wrong_size(what, {name!r}, {size}, {value})")
        lines.append(f"    return {body}")
        scope = {"pack": pack, "head": self.head, "what": self.what, "wrong_size": wrong_size}
        exec("\n".join(lines), scope)  # noqa: S102 - source built above from field names only
        return scope["encode"]  # type: ignore[no-any-return]


Reader_ = Callable[["Reader", str], Any]
Writer = Callable[[Any, str, str], bytes]


def _reader(t: WireType) -> Reader_:
    """How to read a field of type `t` at a Reader; the function gets the field's label."""
    if isinstance(t, Scalar | Fixed):
        one = struct.Struct("<" + struct_code(t))
        return lambda r, name: r.unpack(one)[0]
    if isinstance(t, Str8):
        if t.printable:
            return lambda r, name: printable(r.str8(name, t.limit))
        return lambda r, name: r.str8(name, t.limit)
    if isinstance(t, Bytes8):
        return lambda r, name: r.bytes8(name, t.limit)
    if isinstance(t, Rest):
        if t.text:
            return lambda r, name: printable(bytes(r.rest()).decode("utf-8", errors="replace"))
        return lambda r, name: bytes(r.rest())
    if isinstance(t, Nested):
        make = t.struct
        return lambda r, name: tuple(make(*make.WIRE.read(r, f"{t.label} {i} ")) for i in range(t.count))
    if isinstance(t, List):
        count = struct.Struct("<" + t.count.code)
        item = t.item
        if isinstance(item, Str8):
            return lambda r, name: tuple(r.str8(f"{name} {i}", item.limit) for i in range(r.unpack(count)[0]))

        def read_numbers(r: Reader, name: str) -> tuple[int, ...]:
            (n,) = r.unpack(count)
            need, left = n * struct.calcsize(item.code), len(r.data) - r.pos
            if need > left:
                raise MalformedMessage(f"{r.what}: {n} {name} need {need} bytes, {left} left")
            return r.unpack(struct.Struct(f"<{n}{item.code}"))

        return read_numbers
    raise TypeError(f"no decoder for {t!r}")


def _writer(t: WireType) -> Writer:
    """How to encode a field of type `t`; the function gets the value, its label and the message name."""
    if isinstance(t, Scalar | Fixed):
        one = struct.Struct("<" + struct_code(t))
        return lambda value, name, what: pack(one, what, value)
    if isinstance(t, Str8):
        return lambda value, name, what: bytes8(value.encode("utf-8"), name, what, t.limit)
    if isinstance(t, Bytes8):
        return lambda value, name, what: bytes8(value, name, what, t.limit)
    if isinstance(t, Rest):
        if t.text:
            return lambda value, name, what: value.encode("utf-8")
        return lambda value, name, what: bytes(value)
    if isinstance(t, Nested):

        def write_nested(value: Any, name: str, what: str) -> bytes:
            if len(value) != t.count:
                raise MalformedMessage(f"{what}: exactly {t.count} {t.label}s, got {len(value)}")
            return b"".join(t.struct.WIRE.encode(item) for item in value)  # type: ignore[attr-defined]

        return write_nested
    if isinstance(t, List):
        count, item = _writer(t.count), _writer(t.item)
        return lambda value, name, what: count(len(value), name, what) + b"".join(
            item(v, f"{name} {i}", what) for i, v in enumerate(value)
        )
    raise TypeError(f"no encoder for {t!r}")


class Reader:
    """Cursor over a payload; every read checks bounds and raises MalformedMessage."""

    __slots__ = ("data", "pos", "what")

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what

    def unpack(self, st: struct.Struct) -> tuple[Any, ...]:
        if self.pos + st.size > len(self.data):
            raise MalformedMessage(f"{self.what}: payload of {len(self.data)} bytes is too short")
        values = st.unpack_from(self.data, self.pos)
        self.pos += st.size
        return values

    def str8(self, field: str, limit: int) -> str:
        raw = self.bytes8(field, limit)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedMessage(f"{self.what}: {field} is not valid UTF-8") from None

    def bytes8(self, field: str, limit: int) -> bytes:
        (n,) = self.unpack(_U8)
        if n > limit:
            raise MalformedMessage(f"{self.what}: {field} is {n} bytes, the limit is {limit}")
        if self.pos + n > len(self.data):
            raise MalformedMessage(f"{self.what}: {field} runs past the end of the payload")
        raw = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return raw

    def rest(self) -> bytes:
        raw = self.data[self.pos :]
        self.pos = len(self.data)
        return raw

    def done(self) -> None:
        if self.pos != len(self.data):
            raise MalformedMessage(f"{self.what}: {len(self.data) - self.pos} unexpected trailing bytes")


def wrong_size(what: str, field: str, size: int, value: bytes) -> None:
    raise MalformedMessage(f"{what}: {field} must be {size} bytes, got {len(value)}")


def pack(st: struct.Struct, what: str, *values: object) -> bytes:
    try:
        return st.pack(*values)
    except struct.error as exc:
        raise MalformedMessage(f"{what}: field out of range ({exc})") from None


def bytes8(raw: bytes, field: str, what: str, limit: int) -> bytes:
    if len(raw) > limit:
        raise MalformedMessage(f"{what}: {field} is {len(raw)} bytes, the limit is {limit}")
    return bytes([len(raw)]) + raw


_U8 = struct.Struct("<B")
