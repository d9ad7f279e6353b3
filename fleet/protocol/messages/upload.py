"""Model upload and the A/B slots: BEGIN, CHUNK, COMMIT, ACTIVATE, CONFIRM, ROLLBACK (PROTOCOL.md
section 5), and encoded uploads: STREAM, DATA (section 10)."""

from __future__ import annotations

from dataclasses import dataclass

from fleet.protocol import limits
from fleet.protocol.header import MsgType
from fleet.protocol.messages.base import Message, Slots, SlotsHolder
from fleet.protocol.values import ENCODING_BLOCKS, NO_SLOT, SHA256_SIZE, ActivateMode, Kind
from fleet.protocol.wire import blob, digest, str8, u8, u32


@dataclass(frozen=True, slots=True)
class ModelBegin(Message):
    """Start (or resume) an upload of `size` bytes with hash `sha256` into `slot`."""

    TYPE = MsgType.MODEL_BEGIN
    KIND = Kind.REQUEST
    slot: u8
    size: u32
    sha256: digest
    name: str8 = ""
    version: str8 = ""


@dataclass(frozen=True, slots=True)
class BeginAck(Message):
    """The slot that will receive the model and the offset the board already holds."""

    TYPE = MsgType.MODEL_BEGIN
    KIND = Kind.RESPONSE
    slot: u8
    offset: u32

    def _validate(self) -> None:
        limits.check_slot_index("BeginAck", self.slot)


@dataclass(frozen=True, slots=True)
class ModelChunk(Message):
    """Model bytes at `offset`; the rest of the payload is data."""

    TYPE = MsgType.MODEL_CHUNK
    KIND = Kind.REQUEST
    offset: u32
    data: blob


@dataclass(frozen=True, slots=True)
class ChunkAck(Message):
    """Cumulative ACK: the board holds every byte below `next_offset`."""

    TYPE = MsgType.MODEL_CHUNK
    KIND = Kind.RESPONSE
    next_offset: u32


@dataclass(frozen=True, slots=True)
class ModelStream(Message):
    """Switch the upload in progress to an encoded stream (boards with `Capability.DEFLATE`).

    `base_slot` (0xFF for none) is the slot COPY blocks read, `base_sha256` what the host
    believes it holds; the board refuses a base that does not match (BASE_MISMATCH).
    """

    TYPE = MsgType.MODEL_STREAM
    KIND = Kind.REQUEST
    encoding: u8 = ENCODING_BLOCKS
    base_slot: u8 = NO_SLOT
    base_sha256: digest = bytes(SHA256_SIZE)


@dataclass(frozen=True, slots=True)
class StreamAck(Message):
    """The model offset where the new stream starts (the slot's received count)."""

    TYPE = MsgType.MODEL_STREAM
    KIND = Kind.RESPONSE
    offset: u32


@dataclass(frozen=True, slots=True)
class ModelData(Message):
    """Encoded stream bytes at stream offset `offset`; the rest of the payload is data."""

    TYPE = MsgType.MODEL_DATA
    KIND = Kind.REQUEST
    offset: u32
    data: blob


@dataclass(frozen=True, slots=True)
class DataAck(Message):
    """Cumulative ACK of a stream: stream bytes decoded, and model bytes the slot holds."""

    TYPE = MsgType.MODEL_DATA
    KIND = Kind.RESPONSE
    next_offset: u32
    received: u32


@dataclass(frozen=True, slots=True)
class ModelCommit(Message):
    """Verify the slot's sha256 and test-load the model."""

    TYPE = MsgType.MODEL_COMMIT
    KIND = Kind.REQUEST
    slot: u8


@dataclass(frozen=True, slots=True)
class CommitAck(Message):
    """The model verified and loaded; `arena_used` is what its tensors need on this board."""

    TYPE = MsgType.MODEL_COMMIT
    KIND = Kind.RESPONSE
    slot: u8
    arena_used: u32

    def _validate(self) -> None:
        limits.check_slot_index("CommitAck", self.slot)


@dataclass(frozen=True, slots=True)
class ModelActivate(Message):
    """Run the model in `slot`: in TEST mode until confirmed, or PERMANENT at once."""

    TYPE = MsgType.MODEL_ACTIVATE
    KIND = Kind.REQUEST
    slot: u8
    mode: u8 = ActivateMode.TEST


@dataclass(frozen=True, slots=True)
class ModelConfirm(Message):
    """Make the pending model in `slot` the one the board boots with."""

    TYPE = MsgType.MODEL_CONFIRM
    KIND = Kind.REQUEST
    slot: u8


@dataclass(frozen=True, slots=True)
class ModelRollback(Message):
    """Abandon a pending model and run the previous one (no-op when nothing is pending)."""

    TYPE = MsgType.MODEL_ROLLBACK
    KIND = Kind.REQUEST


@dataclass(frozen=True, slots=True)
class SlotStatus(SlotsHolder, Message):
    """The running slot and both slots' state: the response to ACTIVATE, CONFIRM and ROLLBACK."""

    KIND = Kind.RESPONSE
    active_slot: u8
    slots: Slots

    def _validate(self) -> None:
        limits.check_slots(type(self).__name__, self.active_slot, self.slots)


@dataclass(frozen=True, slots=True)
class ActivateAck(SlotStatus):
    TYPE = MsgType.MODEL_ACTIVATE


@dataclass(frozen=True, slots=True)
class ConfirmAck(SlotStatus):
    TYPE = MsgType.MODEL_CONFIRM


@dataclass(frozen=True, slots=True)
class RollbackAck(SlotStatus):
    TYPE = MsgType.MODEL_ROLLBACK
