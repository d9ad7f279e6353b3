"""What protocol v1 allows in the fields a board sends (PROTOCOL.md sections 4 and 9).

A board is untrusted input: decoding checks every field against these limits and raises
`FieldOutOfRange` naming the message, the field, the value and the limit, so a lying board
is refused where its bytes arrive, not by a ValueError somewhere downstream (a slot state
that is no `SlotState`, a `max_payload` of 4 that makes chunks empty).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fleet.errors import FieldOutOfRange
from fleet.protocol.values import MIN_MAX_PAYLOAD, NO_SLOT, SlotState

SLOTS = (0, 1)
_MAX_SLOT_STATE = max(SlotState)


class _Slot(Protocol):
    state: int
    size: int
    received: int


def at_most(message: str, field: str, value: int, limit: int, what: str) -> None:
    """`value` ≤ `limit`; `what` names the limit ("LogLevel.ERROR (3)")."""
    if value > limit:
        raise FieldOutOfRange(message, field, value, f"the protocol allows at most {what}")


def check_bits(message: str, field: str, value: int, allowed: int) -> None:
    """No bit set in `value` outside `allowed`."""
    if value & ~int(allowed):
        raise FieldOutOfRange(message, field, f"0x{value:02x}", f"the protocol defines only the bits 0x{allowed:02x}")


def check_max_payload(message: str, value: int) -> None:
    if value < MIN_MAX_PAYLOAD:
        raise FieldOutOfRange(message, "max_payload", value, f"the protocol minimum is {MIN_MAX_PAYLOAD}")


def check_slot_index(message: str, value: int) -> None:
    """A slot a board names in an ack: 0 or 1."""
    if value not in SLOTS:
        raise FieldOutOfRange(message, "slot", value, "the protocol has slots 0 and 1")


def check_slots(message: str, active_slot: int, slots: Sequence[_Slot], slot_bytes: int | None = None) -> None:
    """The running slot and both SLOT_INFOs; sizes against `slot_bytes` when it is known."""
    if active_slot not in (*SLOTS, NO_SLOT):
        raise FieldOutOfRange(message, "active_slot", active_slot, f"the protocol allows 0, 1 or {NO_SLOT} (none)")
    top = _MAX_SLOT_STATE
    for i, slot in enumerate(slots):
        if slot.state > top:
            raise FieldOutOfRange(message, f"slot {i} state", slot.state, f"slot states are 0..{int(top)}")
        if slot_bytes is not None and slot.size > slot_bytes:
            raise FieldOutOfRange(message, f"slot {i} size", slot.size, f"the board's slot_bytes {slot_bytes} is the most")
        if slot.received > slot.size:
            raise FieldOutOfRange(message, f"slot {i} received", slot.received, f"more than the slot's size {slot.size}")
