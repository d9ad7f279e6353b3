"""A model's way through a virtual board, and which one runs: the model requests.

Upload into the receiving slot (MODEL_BEGIN, plain MODEL_CHUNKs or an encoded stream of
MODEL_STREAM / MODEL_DATA), COMMIT (verify the hash, then test-load), ACTIVATE on trial or
for good, CONFIRM or ROLLBACK (PROTOCOL.md sections 5 and 10). The slots and their rules
are flash (`slots.py`); this holds what a reset loses: the running slot and its model, the
models loaded since boot (COMMIT's test-load is kept, so ACTIVATE does not load again), the
open encoded stream (`encoded_upload.py`) and the COMMIT parked while its test-load runs.

The engine owns the inference schedule: every model started or stopped is handed to its
`on_model` callback, and the events this writes go through its `log`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fleet.error_codes import ErrorCode
from fleet.protocol import (
    ActivateAck, ActivateMode, BeginAck, ChunkAck, CommitAck, ConfirmAck, LogLevel, Message, ModelActivate,
    ModelBegin, ModelChunk, ModelCommit, ModelConfirm, ModelRollback, MsgType, RollbackAck, SlotState,
)  # fmt: skip
from fleet.sim.dispatch import Handler
from fleet.sim.encoded_upload import EncodedUpload
from fleet.sim.loader import LoadedModel, ModelLoader
from fleet.sim.refusal import Refusal
from fleet.sim.slots import SlotStore, active_slot_byte


@dataclass(slots=True)
class PendingWork:
    """A slow test-load parked off the event loop: call `run()` anywhere, then the engine's `finish_work`."""

    slot: int
    data: bytes
    check: Callable[[bytes], LoadedModel]

    def run(self) -> LoadedModel | Refusal:
        try:
            return self.check(self.data)
        except Refusal as refusal:
            return refusal


class ModelLifecycle:
    """One board's model requests and its running model; see the module doc."""

    def __init__(
        self,
        store: SlotStore,
        loader: ModelLoader,
        capabilities: int,
        slot_bytes: int,
        log: Callable[[LogLevel, str], None],
        on_model: Callable[[LoadedModel | None], None],
    ) -> None:
        self.store = store
        self.loader = loader
        self.slot_bytes = slot_bytes
        self._log = log
        self._on_model = on_model
        self._encoded = EncodedUpload(store, capabilities)
        self.reset()

    def reset(self) -> None:
        """A reset: no model runs, none is loaded, no stream is open, no COMMIT is parked."""
        self.running: int | None = None
        self.model: LoadedModel | None = None
        self.pending: PendingWork | None = None
        self._loaded: dict[int, LoadedModel] = {}
        self._encoded.close()

    def handlers(self) -> dict[int, Handler]:
        """The request types this answers, with their handlers."""
        return {
            MsgType.MODEL_BEGIN: self._begin,
            MsgType.MODEL_CHUNK: self._chunk,
            # Looked up at each request: a test makes a lying board by replacing EncodedUpload's
            # methods while the board runs.
            MsgType.MODEL_STREAM: lambda request: self._encoded.open(request),
            MsgType.MODEL_DATA: lambda request: self._encoded.data(request),
            MsgType.MODEL_COMMIT: self._commit,
            MsgType.MODEL_ACTIVATE: self._activate,
            MsgType.MODEL_CONFIRM: self._confirm,
            MsgType.MODEL_ROLLBACK: self._rollback,
        }

    def start_active(self) -> None:
        """At boot: run the ACTIVE slot's model, if there is one and it loads."""
        active = self.store.active
        if active is None:
            return
        try:
            self._run(active, self._load(active))
        except Refusal as refusal:
            # The slot keeps its state; the host sees active_slot 0xFF (PROTOCOL.md section 5).
            self._log(LogLevel.ERROR, f"boot: slot {active} failed to load: {refusal.text}")

    def stop(self) -> None:
        """No model runs any more (the slots are unchanged)."""
        self.running, self.model = None, None
        self._on_model(None)

    def finish_commit(self, work: PendingWork, result: LoadedModel | Refusal,
                      answer: Callable[[Message | Refusal], None]) -> None:  # fmt: skip
        """The parked COMMIT's test-load ended with `result`: mark the slot VALID (or not) and
        `answer` the COMMIT."""
        self.pending = None
        if isinstance(result, Refusal):
            answer(result)
            self._log(LogLevel.WARN, f"commit slot {work.slot} refused: {result.code.name} {result.text}")
            return
        self.store.mark_valid(work.slot, result.arena_used)
        self._loaded[work.slot] = result
        answer(CommitAck(work.slot, result.arena_used))
        self._log(LogLevel.INFO, f"commit slot {work.slot}: verified, arena {result.arena_used} B, "
                  f"latency {result.latency_us} us")  # fmt: skip

    # --- requests --------------------------------------------------------------------

    def _begin(self, request: ModelBegin) -> BeginAck:
        self._encoded.close()
        offset = self.store.begin(
            request.slot, request.size, request.sha256, request.name, request.version,
            running=self.running, slot_bytes=self.slot_bytes,
        )  # fmt: skip
        self._loaded.pop(request.slot, None)
        what = "resume" if offset else "begin"
        self._log(LogLevel.INFO, f"upload {what} slot {request.slot}: {request.name} {request.version}, "
                  f"{request.size} B at offset {offset}")  # fmt: skip
        return BeginAck(request.slot, offset)

    def _chunk(self, request: ModelChunk) -> ChunkAck:
        self._encoded.close()
        _, received = self.store.write(request.offset, request.data)
        return ChunkAck(received)

    def _commit(self, request: ModelCommit) -> CommitAck | None:
        self._encoded.close()
        self.store.check_slot(request.slot)
        slot = self.store.slots[request.slot]
        if slot.state in (SlotState.VALID, SlotState.PENDING, SlotState.ACTIVE):
            return CommitAck(request.slot, slot.arena_used)
        data = self.store.verify(request.slot)
        self.pending = PendingWork(request.slot, data, self.loader.check)
        return None  # parked: answered by finish_commit

    def _activate(self, request: ModelActivate) -> ActivateAck:
        self.store.check_slot(request.slot)
        if request.mode not in (ActivateMode.TEST, ActivateMode.PERMANENT):
            raise Refusal(ErrorCode.BAD_PAYLOAD, f"activate mode {request.mode}; 0 test or 1 permanent", request.mode)
        if request.slot != self.running:
            state = self.store.slots[request.slot].state
            if state is not SlotState.VALID:
                raise Refusal(ErrorCode.NOT_VERIFIED, f"slot {request.slot} is {state.name}, not VALID", request.slot)
            model = self._load(request.slot)
            if request.mode == ActivateMode.TEST:
                self.store.activate_test(request.slot)
            else:
                self.store.activate_permanent(request.slot)
            self._run(request.slot, model)
            mode = ActivateMode(request.mode).name.lower()
            self._log(LogLevel.INFO, f"activate slot {request.slot} ({mode}): {self.store.slots[request.slot].name}")
        return ActivateAck(active_slot_byte(self.running), self.store.infos())

    def _confirm(self, request: ModelConfirm) -> ConfirmAck:
        self.store.check_slot(request.slot)
        was_pending = self.store.slots[request.slot].state is SlotState.PENDING
        self.store.confirm(request.slot)
        if was_pending:
            self._log(LogLevel.INFO, f"confirm slot {request.slot}")
        return ConfirmAck(active_slot_byte(self.running), self.store.infos())

    def _rollback(self, _: ModelRollback) -> RollbackAck:
        pending = self.store.pending
        if self.store.rollback():
            active = self.store.active
            self.stop()
            if active is not None:
                self._run(active, self._load(active))
            self._log(LogLevel.WARN, f"rollback: slot {pending} abandoned, running "
                      f"{'slot ' + str(active) if active is not None else 'no model'}")  # fmt: skip
        return RollbackAck(active_slot_byte(self.running), self.store.infos())

    # --- models ----------------------------------------------------------------------

    def _load(self, index: int) -> LoadedModel:
        model = self._loaded.get(index)
        if model is None:
            slot = self.store.slots[index]
            model = self.loader.load(self.store.read(index), slot.arena_used)
            self._loaded[index] = model
        return model

    def _run(self, index: int, model: LoadedModel) -> None:
        self.running, self.model = index, model
        model.restart_inputs()
        self._on_model(model)
