"""The two model slots and their state machine (PROTOCOL.md section 5), persisted like flash.

A `SlotStore` lives in a directory: `slot0.bin` and `slot1.bin` hold model bytes, and
`state.json` holds each slot's state and metadata, the boot counter and the board uid.
The JSON is replaced atomically (write a temporary file, then `os.replace`), so a virtual
board killed at any moment comes back with a consistent store. During an upload the data
file only ever grows from offset 0 by contiguous appends, so the received count is the
file's length and chunks need no JSON rewrite.

The store knows which slot is ACTIVE (the boot choice) but not which one is running:
that is RAM state, owned by the engine and passed in where the rules need it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from fleet.error_codes import ErrorCode
from fleet.protocol import NO_SLOT, SHA256_SIZE, SlotInfo, SlotState
from fleet.sim.refusal import Refusal

SLOT_COUNT = 2
STATE_FILE = "state.json"
_ZERO_HASH = bytes(SHA256_SIZE)


@dataclass(slots=True)
class Slot:
    """One slot's persisted metadata; `received` is derived from the data file."""

    state: SlotState = SlotState.EMPTY
    size: int = 0
    sha256: bytes = _ZERO_HASH
    name: str = ""
    version: str = ""
    arena_used: int = 0  # measured at COMMIT, reused when the model is loaded again
    received: int = field(default=0, compare=False)

    def info(self) -> SlotInfo:
        return SlotInfo(self.state, self.size, self.received, self.sha256, self.name, self.version)


class SlotStore:
    """Two persisted model slots, the boot counter and the board identity."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.slots = [Slot() for _ in range(SLOT_COUNT)]
        self.boot_count = 0
        self.uid: bytes | None = None
        self._load()

    # --- queries ---------------------------------------------------------------------

    @property
    def active(self) -> int | None:
        """The ACTIVE slot (the boot choice), or None."""
        return next((i for i, s in enumerate(self.slots) if s.state is SlotState.ACTIVE), None)

    @property
    def pending(self) -> int | None:
        return next((i for i, s in enumerate(self.slots) if s.state is SlotState.PENDING), None)

    @property
    def receiving(self) -> int | None:
        return next((i for i, s in enumerate(self.slots) if s.state is SlotState.RECEIVING), None)

    @property
    def blank(self) -> bool:
        """No slot holds anything, not even part of an upload: flash as it left the factory."""
        return all(s.state is SlotState.EMPTY for s in self.slots)

    def infos(self) -> tuple[SlotInfo, SlotInfo]:
        return (self.slots[0].info(), self.slots[1].info())

    def read(self, index: int) -> bytes:
        """The bytes held in a slot (its first `received` bytes)."""
        return self._path(index).read_bytes()[: self.slots[index].received]

    # --- state machine ---------------------------------------------------------------

    def begin(self, index: int, size: int, sha256: bytes, name: str, version: str, *, running: int | None,
              slot_bytes: int) -> int:  # fmt: skip
        """MODEL_BEGIN: returns the resume offset. Erases the slot unless it holds this upload."""
        self.check_slot(index)
        if index in (running, self.active):
            raise Refusal(ErrorCode.BAD_SLOT, f"slot {index} holds the running or active model", index)
        if not 0 < size <= slot_bytes:
            raise Refusal(ErrorCode.TOO_LARGE, f"model of {size} bytes does not fit a {slot_bytes}-byte slot",
                          slot_bytes)  # fmt: skip
        slot = self.slots[index]
        same = slot.size == size and slot.sha256 == sha256
        if same and slot.state in (SlotState.RECEIVING, SlotState.VALID):
            return slot.received
        # Chunks carry no slot number, so only one upload may be in progress: an upload
        # abandoned in the other slot (never a working model) is erased.
        other = self.receiving
        if other is not None and other != index:
            self._erase(other)
        self._erase(index)
        self.slots[index] = Slot(SlotState.RECEIVING, size, sha256, name, version)
        self.save()
        return 0

    def write(self, offset: int, data: bytes) -> tuple[int, int]:
        """MODEL_CHUNK: store `data` if it continues the upload. Returns (slot, received)."""
        index = self.receiving
        if index is None:
            raise Refusal(ErrorCode.NO_UPLOAD, "no upload in progress: send MODEL_BEGIN first")
        slot = self.slots[index]
        if not data:
            raise Refusal(ErrorCode.BAD_PAYLOAD, "empty chunk")
        if offset + len(data) > slot.size:
            raise Refusal(ErrorCode.OUT_OF_RANGE, f"chunk ends at {offset + len(data)}, model is {slot.size} bytes",
                          slot.size)  # fmt: skip
        if offset == slot.received:
            try:
                with open(self._path(index), "r+b") as f:
                    f.seek(offset)
                    f.write(data)
            except OSError as exc:
                raise Refusal(ErrorCode.STORAGE, f"flash write failed: {exc.strerror}") from None
            slot.received += len(data)
        # offset < received: a retransmission already held; offset > received: a gap.
        # Either way the cumulative ACK tells the host where to continue.
        return index, slot.received

    def verify(self, index: int) -> bytes:
        """First half of MODEL_COMMIT: completeness and hash. Returns the model bytes."""
        self.check_slot(index)
        slot = self.slots[index]
        if slot.state is SlotState.EMPTY:
            raise Refusal(ErrorCode.NO_UPLOAD, f"slot {index} is empty: send MODEL_BEGIN first")
        if slot.received < slot.size:
            raise Refusal(ErrorCode.INCOMPLETE, f"slot {index} holds {slot.received} of {slot.size} bytes",
                          slot.received)  # fmt: skip
        data = self.read(index)
        if slot.state is SlotState.RECEIVING and hashlib.sha256(data).digest() != slot.sha256:
            self._erase(index)
            self.save()
            raise Refusal(ErrorCode.HASH_MISMATCH, f"sha256 of slot {index} does not match MODEL_BEGIN; slot erased")
        return data

    def mark_valid(self, index: int, arena_used: int) -> None:
        """Second half of MODEL_COMMIT: the model test-loaded."""
        slot = self.slots[index]
        slot.arena_used = arena_used
        if slot.state is SlotState.RECEIVING:
            slot.state = SlotState.VALID
        self.save()

    def activate_test(self, index: int) -> None:
        slot = self.slots[index]
        if slot.state is not SlotState.VALID:
            raise Refusal(ErrorCode.NOT_VERIFIED, f"slot {index} is {slot.state.name}, not VALID", index)
        for other in self.slots:
            if other.state is SlotState.PENDING:  # at most one PENDING slot
                other.state = SlotState.VALID
        slot.state = SlotState.PENDING
        self.save()

    def activate_permanent(self, index: int) -> None:
        slot = self.slots[index]
        if slot.state not in (SlotState.VALID, SlotState.PENDING):
            raise Refusal(ErrorCode.NOT_VERIFIED, f"slot {index} is {slot.state.name}, not VALID", index)
        for other in self.slots:
            if other.state is SlotState.PENDING:  # a permanent choice ends any test
                other.state = SlotState.VALID
        self._promote(index)

    def confirm(self, index: int) -> None:
        self.check_slot(index)
        slot = self.slots[index]
        if slot.state is SlotState.ACTIVE:
            return
        if slot.state is not SlotState.PENDING:
            raise Refusal(ErrorCode.NOT_PENDING, f"slot {index} is {slot.state.name}, not PENDING", index)
        self._promote(index)

    def rollback(self) -> bool:
        """PENDING -> VALID. Returns whether anything changed."""
        index = self.pending
        if index is None:
            return False
        self.slots[index].state = SlotState.VALID
        self.save()
        return True

    def program(self, index: int, data: bytes, name: str, version: str, arena_used: int) -> None:
        """Factory programming (a debugger, not the protocol): `data` becomes the ACTIVE model."""
        self.check_slot(index)
        for slot in self.slots:
            if slot.state is SlotState.PENDING:
                slot.state = SlotState.VALID
        self._erase(index)
        try:
            self._path(index).write_bytes(data)
        except OSError as exc:
            raise Refusal(ErrorCode.STORAGE, f"flash write failed: {exc.strerror}") from None
        self.slots[index] = Slot(SlotState.VALID, len(data), hashlib.sha256(data).digest(), name, version,
                                 arena_used, received=len(data))  # fmt: skip
        self._promote(index)

    def boot(self) -> None:
        """What the bootloader does: count the boot, revert an unconfirmed test."""
        self.boot_count += 1
        index = self.pending
        if index is not None:
            self.slots[index].state = SlotState.VALID
        self.save()

    # --- persistence -----------------------------------------------------------------

    def save(self) -> None:
        """Write state.json atomically."""
        state = {
            "uid": self.uid.hex() if self.uid else None,
            "boot_count": self.boot_count,
            "slots": [
                {"state": s.state.name, "size": s.size, "sha256": s.sha256.hex(), "name": s.name,
                 "version": s.version, "arena_used": s.arena_used}
                for s in self.slots
            ],  # fmt: skip
        }
        tmp = self.directory / f".{STATE_FILE}.tmp"
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        os.replace(tmp, self.directory / STATE_FILE)

    def _load(self) -> None:
        path = self.directory / STATE_FILE
        if path.exists():
            state = json.loads(path.read_text(encoding="utf-8"))
            self.uid = bytes.fromhex(state["uid"]) if state.get("uid") else None
            self.boot_count = int(state["boot_count"])
            for i, entry in enumerate(state["slots"][:SLOT_COUNT]):
                self.slots[i] = Slot(
                    SlotState[entry["state"]], entry["size"], bytes.fromhex(entry["sha256"]), entry["name"],
                    entry["version"], entry["arena_used"],
                )  # fmt: skip
        for i, slot in enumerate(self.slots):
            data_path = self._path(i)
            data_path.touch()
            slot.received = min(data_path.stat().st_size, slot.size)

    def _promote(self, index: int) -> None:
        for other in self.slots:
            if other.state is SlotState.ACTIVE:
                other.state = SlotState.VALID
        self.slots[index].state = SlotState.ACTIVE
        self.save()

    def _erase(self, index: int) -> None:
        try:
            with open(self._path(index), "wb"):
                pass
        except OSError as exc:
            raise Refusal(ErrorCode.STORAGE, f"flash erase failed: {exc.strerror}") from None
        self.slots[index] = Slot()

    def check_slot(self, index: int) -> None:
        """BAD_SLOT unless `index` names a slot."""
        if not 0 <= index < SLOT_COUNT:
            raise Refusal(ErrorCode.BAD_SLOT, f"no slot {index}: slots are 0 and 1", index)

    def _path(self, index: int) -> Path:
        return self.directory / f"slot{index}.bin"


def active_slot_byte(running: int | None) -> int:
    """The wire value of `active_slot`: the running slot or 0xFF."""
    return NO_SLOT if running is None else running
