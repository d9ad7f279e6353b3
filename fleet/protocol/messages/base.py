"""What every message shares: the base class, the slot record two messages carry, and the
ERROR answer any request may get."""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable
from typing import Annotated, Any, ClassVar

from fleet.protocol import limits
from fleet.protocol.header import MsgType
from fleet.protocol.layout import Table
from fleet.protocol.values import SHA256_SIZE, Kind, SlotState
from fleet.protocol.wire import Nested, digest, rest_text, text8, u8, u16, u32


class Message(Table):
    """Base of all message payloads: a table class (its fields' wire types are its layout)
    with its message type and whether it is a request (host -> board), a response or an
    unsolicited event (board -> host)."""

    __slots__ = ()
    TYPE: ClassVar[MsgType]
    KIND: ClassVar[Kind]
    # (field, largest value, how the limit reads in an error): the upper bounds protocol v1
    # puts on the class's numbers, checked at decode (a table, so `fleet.protocol.stream`
    # checks the same bounds on its fast path).
    LIMITS: ClassVar[tuple[tuple[str, int, str], ...]] = ()

    def encode(self) -> bytes:
        return self.WIRE.encode(self)

    @classmethod
    def decode(cls, payload: bytes) -> Message:
        msg = cls.from_values(cls.WIRE.decode(payload))
        msg._validate()
        return msg

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Message:
        """The message with these field values, in declaration order, as decoding found
        them (not checked again: only for values `decode` or its fast path has checked)."""
        make = _MAKERS.get(cls) or _maker(cls)
        return make(values)

    def values(self) -> tuple[Any, ...]:
        """The field values in declaration order (what `from_values` takes)."""
        return self.WIRE.values(self)

    def _validate(self) -> None:
        """Raise FieldOutOfRange for a value protocol v1 does not allow (run at decode).
        A class that checks more than its `LIMITS` overrides this (and then has no fast path)."""
        for name, limit, what in self.LIMITS:
            limits.at_most(type(self).__name__, name, getattr(self, name), limit, what)


_MAKERS: dict[type, Callable[[tuple[Any, ...]], Message]] = {}


def _maker(cls: type[Message]) -> Callable[[tuple[Any, ...]], Message]:
    """A function building a `cls` from its decoded field values, without the frozen
    dataclass's `__init__` (an `object.__setattr__` per field: twice the cost of the rest of
    a POWER's decoding). It sets the slots directly, as `__init__` would, in one
    straight-line function per class (as `dataclasses` itself generates `__init__`)."""
    names = cls.WIRE.names
    setters = [getattr(cls.__dict__.get(name), "__set__", None) for name in names]
    if None in setters:  # not a slots class: its own constructor
        return _MAKERS.setdefault(cls, lambda values: cls(*values))
    args = "".join(f", _s{i}=_setters[{i}]" for i in range(len(names)))
    body = "".join(f"    _s{i}(m, v[{i}])\n" for i in range(len(names)))
    scope: dict[str, Any] = {"_setters": setters, "_cls": cls, "_new": object.__new__}
    exec(f"def make(v, _cls=_cls, _new=_new{args}):\n    m = _new(_cls)\n{body}    return m\n", scope)  # noqa: S102
    return _MAKERS.setdefault(cls, scope["make"])


@dataclass(frozen=True, slots=True)
class SlotInfo(Table):
    """One model slot as a board reports it."""

    state: u8 = SlotState.EMPTY
    size: u32 = 0
    received: u32 = 0
    sha256: digest = bytes(SHA256_SIZE)
    name: text8 = ""
    version: text8 = ""


class SlotsHolder:
    """Shared by messages that carry both slots and the index of the running one."""

    __slots__ = ()
    active_slot: int
    slots: tuple[SlotInfo, SlotInfo]

    @property
    def active(self) -> SlotInfo | None:
        """The running slot, or None when the board has no model."""
        return self.slots[self.active_slot] if self.active_slot < len(self.slots) else None


@dataclass(frozen=True, slots=True)
class Error(Message):
    """ERROR response to any request: sent with the request's type and seq and the
    RESPONSE|ERROR flags. `detail` is a number that makes the code precise (the expected
    offset, the arena bytes needed...)."""

    KIND = Kind.RESPONSE
    code: u16
    detail: u32 = 0
    text: rest_text = ""


# The two slots, as INFO and SLOT_STATUS carry them.
Slots = Annotated[tuple[SlotInfo, SlotInfo], Nested(SlotInfo, 2, "slot")]
