"""What every message shares: the base class, the slot record two messages carry, and the
ERROR answer any request may get."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar

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

    def encode(self) -> bytes:
        return self.WIRE.encode(self)

    @classmethod
    def decode(cls, payload: bytes) -> Message:
        msg = cls(*cls.WIRE.decode(payload))
        msg._validate()
        return msg

    def _validate(self) -> None:
        """Raise FieldOutOfRange for a value protocol v1 does not allow (run at decode)."""


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
