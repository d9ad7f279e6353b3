"""The fast path of the streamed events (INFER_RESULT, POWER): a frame's body straight to
its field values.

A streaming board sends these hundreds of times a second, and on the general path each
becomes a `Frame`, a `Header` and a `Message` before the telemetry made of it. A
`FrameDecoder` given `STREAM_UNPACKERS` (its `stream`) hands such a frame on as a
`StreamRecord` (type, seq, field values) instead. Each unpacker is compiled here from the
same table the general decoding uses: the message class's layout (`Table.WIRE`, its struct
and sizes) and its limits (`Message.LIMITS`). An unpacker only ever accepts: a body with
anything wrong in it (a length, a limit) gives None, and the decoder passes that frame on
as a `Frame`, so the general decoding refuses it, counted and named exactly as any other
(tests/protocol/test_stream.py holds the two paths to the same answers).

Only classes whose checks are all in the table qualify: a class with its own `_validate`,
or a field the struct cannot read (text, strings), is a TypeError here, never a fast path
that skips a check.
"""

from __future__ import annotations

from typing import Any

from fleet.protocol.framing import CRC_SIZE, StreamRecord, Unpacker
from fleet.protocol.header import HEADER_SIZE
from fleet.protocol.messages import EVENTS, InferResult, Message, Power
from fleet.protocol.values import Kind
from fleet.protocol.wire import Rest

__all__ = ["STREAM_UNPACKERS", "StreamRecord", "body_unpacker", "stream_message"]


def body_unpacker(cls: type[Message]) -> Unpacker:
    """The unpacker of event class `cls`: a checked frame body (header, payload, CRC) to the
    payload's field values as `cls.decode` gives them, or None where `cls.decode` raises."""
    if cls.KIND is not Kind.EVENT:
        raise TypeError(f"{cls.__name__} is not an event")
    if cls._validate is not Message._validate:
        raise TypeError(f"{cls.__name__} checks more than its LIMITS: no fast path may skip that")
    layout = cls.WIRE
    if layout.tail and (len(layout.tail) > 1 or layout.tail[0][1] != Rest()):
        raise TypeError(f"{cls.__name__}: only fixed fields and trailing raw bytes have a fast path")
    head_end = HEADER_SIZE + layout.head_size
    exact = not layout.tail
    n_head = len(layout.fields) - len(layout.tail)
    lines = [
        "def unpack(body, _head=_head):",
        f"    if len(body) {'!=' if exact else '<'} {head_end + CRC_SIZE}:",
        "        return None",
        f"    v = _head(body, {HEADER_SIZE})",
    ]  # fmt: skip
    for name, limit, _what in cls.LIMITS:
        index = layout.names.index(name)
        if index >= n_head:
            raise TypeError(f"{cls.__name__}.{name}: a limit on a field outside the fixed head")
        lines += [f"    if v[{index}] > {int(limit)}:", "        return None"]
    lines.append("    return v" if exact else f"    return (*v, body[{head_end}:-{CRC_SIZE}])")
    scope: dict[str, Any] = {"_head": layout.head.unpack_from}
    exec("\n".join(lines), scope)  # noqa: S102 - source built from the layout's sizes and limits only
    unpack: Unpacker = scope["unpack"]
    unpack.__qualname__ = f"{cls.__name__}.unpack_body"
    return unpack


def stream_message(record: StreamRecord) -> Message:
    """The message a fast-path record stands for (what the general decoding would give)."""
    return EVENTS[record[0]].from_values(record[2])


STREAM_UNPACKERS: dict[int, Unpacker] = {cls.TYPE: body_unpacker(cls) for cls in (InferResult, Power)}
