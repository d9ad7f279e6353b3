"""A JSON-friendly view of messages: fields as plain values, bytes as hex.

Used by the golden vectors (tests/golden/frames.json), which the C firmware reads too,
and by anything that dumps protocol traffic as JSON.
"""

from __future__ import annotations

import dataclasses
import typing
from functools import cache
from typing import Any

from fleet.errors import MalformedMessage
from fleet.protocol import messages
from fleet.protocol.messages import Message, SlotInfo


def to_fields(obj: Message | SlotInfo) -> dict[str, Any]:
    """Every field of a message as int, float, str, hex string, or a list of plain values or dicts."""
    return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def from_fields(cls: type[Message] | type[SlotInfo], values: dict[str, Any]) -> Any:
    """Rebuild a message of class `cls` from `to_fields` output."""
    hints = _hints(cls)
    unknown = set(values) - set(hints)
    if unknown:
        raise MalformedMessage(f"{cls.__name__}: unknown fields {sorted(unknown)}")
    return cls(**{name: _typed(hints[name], value) for name, value in values.items()})


def message_class(name: str) -> type[Message]:
    """The message class called `name` (e.g. "ModelBegin")."""
    cls = getattr(messages, name, None)
    if not (isinstance(cls, type) and issubclass(cls, Message) and dataclasses.is_dataclass(cls)):
        raise MalformedMessage(f"no message class named {name!r}")
    return cls


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, SlotInfo):
        return to_fields(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _typed(hint: Any, value: Any) -> Any:
    if hint is bytes:
        return bytes.fromhex(value)
    if typing.get_origin(hint) is tuple:
        (item, *_) = typing.get_args(hint)
        if dataclasses.is_dataclass(item):
            return tuple(from_fields(item, v) for v in value)
        return tuple(value)
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}
