"""Deploy one model to one board, safely: the board ends on the new, verified model or on
its previous one, never on a half-written or unconfirmed one.

    pre-flight -> upload (resumes after disconnects) -> COMMIT (board verifies sha256 and
    test-loads) -> ACTIVATE test -> health check -> CONFIRM, or ROLLBACK on any failure.

A board that resets before CONFIRM comes back on its previous model by itself (PROTOCOL.md
section 5); we reconnect, see that, and report the rollback.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from fleet.client import BoardClient, Subscription
from fleet.connect import Connector
from fleet.deploy.events import DeployEvent
from fleet.deploy.model_cache import ModelCache
from fleet.deploy.model_file import ModelFile
from fleet.deploy.preflight import preflight_board
from fleet.deploy.upload import UploadProgress, upload
from fleet.error_codes import ErrorCode
from fleet.errors import DeviceError, FleetError, FleetTimeout, ModelRejected, PortBusy, TransportError, UploadError
from fleet.protocol import (
    ActivateMode, Boot, Capability, CommitAck, Info, InferResult, Log, LogLevel, ModelActivate, ModelCommit,
    ModelConfirm, ModelRollback, SlotInfo, SlotState, SlotStatus, Stream, StreamConfig,
)  # fmt: skip

Emit = Callable[[DeployEvent], None]
Outcome = Literal[
    "confirmed", "skipped", "refused", "rolled_back", "failed", "unknown", "busy", "unreachable", "stopped"
]  # fmt: skip

# COMMIT hashes the slot and test-loads the model: a board may take seconds for a big one
# (a virtual board measures a new model's arena in a child process). COMMIT is idempotent
# and a busy board answers queued requests in order, so ask again every couple of seconds
# (a lost frame on a noisy line costs that, not the whole patience) for up to ~30 s.
COMMIT_TIMEOUT_S = 2.0
COMMIT_RETRIES = 14


@dataclass(frozen=True, slots=True)
class DeployOptions:
    """How strict and how patient a deploy is."""

    health_inferences: int = 3
    health_timeout_s: float = 10.0
    max_latency_us: int | None = None  # health fails if the new model's median latency exceeds this
    reconnects: int = 5
    reconnect_window_s: float = 30.0
    progress_every_s: float = 0.25  # upload progress events are throttled to this period
    compress: bool = True  # encoded uploads (compression, deltas) to boards that decode them


@dataclass(frozen=True, slots=True)
class DeployTarget:
    """A board to deploy to: its name, identity and how to (re)connect to it.

    `connect` returns a connected client; if `owns_client` the deploy closes it when done
    (the CLI), otherwise it belongs to someone else who keeps it (the fleet manager), and
    `connect` is expected to wait for that owner to reconnect after a link loss.
    `health_streams` is the stream configuration during the health check (results must be
    on) and `after_streams` the one to leave behind.
    """

    name: str
    uid: str
    port: str
    connect: Connector
    owns_client: bool = True
    health_streams: StreamConfig = StreamConfig(Stream.RESULTS | Stream.LOG, LogLevel.WARN, 0, 1000, 0)
    after_streams: StreamConfig = StreamConfig(Stream.NONE)


@dataclass(frozen=True, slots=True)
class BoardResult:
    board: str
    outcome: Outcome
    reason: str | None = None


class _HealthFailed(Exception):
    pass


# Device errors after which starting over (MODEL_BEGIN resumes) can succeed: the board
# rebooted mid-upload or was busy.
_RESUMABLE = frozenset({
    ErrorCode.NO_UPLOAD, ErrorCode.OUT_OF_RANGE, ErrorCode.BUSY, ErrorCode.INCOMPLETE,
    ErrorCode.HASH_MISMATCH,  # raised as such only after an encoded upload, to send it again plain
})  # fmt: skip


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, DeviceError):
        return exc.code in _RESUMABLE
    return isinstance(exc, (TransportError, FleetTimeout))


def target_slot(info: Info) -> int | None:
    """The slot an upload may write: neither the running nor the ACTIVE (boot) slot."""
    running = info.active_slot
    for index, slot in enumerate(info.slots):
        if index != running and slot.state != SlotState.ACTIVE:
            return index
    return None


def _boot_slot(info: Info) -> SlotInfo | None:
    """The confirmed slot the board boots (while another one may be running in test)."""
    return next((s for s in info.slots if s.state == SlotState.ACTIVE), None)


class BoardDeploy:
    """One deploy to one board; `await BoardDeploy(...).run()` returns its BoardResult."""

    def __init__(self, target: DeployTarget, model: ModelFile, options: DeployOptions, emit: Emit) -> None:
        self.target = target
        self.model = model
        self.options = options
        self._emit = emit
        self.client: BoardClient | None = None
        self._last_progress = 0.0
        self._preflight_reported = False
        self._confirm_sent = False
        self._hash_failed_encoded = False
        self._bases = ModelCache() if options.compress else None

    def emit(self, event: str, **fields: object) -> None:
        self._emit(DeployEvent(event=event, board=self.target.name, uid=self.target.uid, port=self.target.port,
                               **fields))  # type: ignore[arg-type]  # fmt: skip

    async def run(self) -> BoardResult:
        try:
            return await self._run()
        except FleetError as exc:
            if self._confirm_sent:
                # The board may have confirmed: "failed" could be a lie, so could "confirmed".
                reason = (f"{exc}; CONFIRM was sent but never answered: the board runs the new model or, if "
                          "CONFIRM did not arrive, boots its previous one; deploy again to find out")  # fmt: skip
                self.emit("unknown", reason=reason, phase="done")
                return BoardResult(self.target.name, "unknown", reason)
            reason = str(exc)
            self.emit("failed", reason=reason, phase="done")
            return BoardResult(self.target.name, "failed", reason)
        finally:
            await self.close()

    async def close(self) -> None:
        """Close the connection if this deploy owns it (`run()` does this itself)."""
        client, self.client = self.client, None
        if client is not None and self.target.owns_client:
            await client.close()

    async def reach(self) -> Info | BoardResult:
        """Connect for the first time: the board's INFO, or why nothing can be sent to it:
        `busy` (another process drives it; the reason names it) or `unreachable` (it did
        not answer within the reconnect window)."""
        try:
            return await self._reconnect(None)
        except PortBusy as exc:
            return self._not_sent("busy", str(exc))
        except FleetTimeout as exc:
            return self._not_sent("unreachable", str(exc))

    def _not_sent(self, outcome: Outcome, reason: str) -> BoardResult:
        self.emit(outcome, reason=reason, phase="done")
        return BoardResult(self.target.name, outcome, reason)

    async def _run(self) -> BoardResult:
        self.emit("progress", phase="connecting")
        info = await self.reach()
        if isinstance(info, BoardResult):
            return info
        # Everything before ACTIVATE can simply start over after a link loss: HELLO again,
        # MODEL_BEGIN resumes the transfer, COMMIT is idempotent.
        attempt = 0
        while True:
            try:
                prepared = await self._prepare(info)
                break
            except (TransportError, FleetTimeout, DeviceError) as exc:
                attempt += 1
                if not _retryable(exc) or attempt > self.options.reconnects:
                    raise
                info = await self._reconnect(exc)
        if isinstance(prepared, BoardResult):
            return prepared
        return await self._activate(*prepared)

    async def _prepare(self, info: Info) -> tuple[int, Info, bool] | BoardResult:
        """Pre-flight, upload and COMMIT: (slot, info before activation, whether to ACTIVATE),
        or the result if it ends here.

        A board already testing this model (an interrupted deploy activated it and never
        confirmed it) needs no upload and no ACTIVATE, but it is not done either: it goes
        on to the health check, then CONFIRM or ROLLBACK."""
        check = await preflight_board(self.model, self._client, self.target.name, info)
        if check.on_trial and check.ok:
            return info.active_slot, info, False
        if check.same_model:
            if self._bases is not None:
                self._bases.put(self.model.data)  # what the board runs: the base of a later delta
            self.emit("skipped", reason="already runs this model", sha256=self.model.info.sha256, phase="done")
            return BoardResult(self.target.name, "skipped", "already runs this model")
        if not check.ok:
            reason = "; ".join(check.reasons)
            self.emit("refused", reason=reason, phase="done")
            return BoardResult(self.target.name, "refused", reason)
        if not self._preflight_reported:
            self._preflight_reported = True
            self.emit("preflight", reason=check.report.message, phase="preflight")

        info = await self._clear_pending(info)
        slot = target_slot(info)
        if slot is None:
            raise FleetError(f"{self.target.name}: no free model slot (states {[s.state for s in info.slots]})")
        compress = self.options.compress and not self._hash_failed_encoded
        progress = await upload(self._client, self.model.image, slot, compress=compress, bases=self._bases,
                                on_progress=self._on_progress(slot))  # fmt: skip
        self._report_progress(progress, slot, force=True)

        self.emit("progress", phase="verifying", slot=slot)
        try:
            commit = await self._client.request(ModelCommit(slot), timeout=COMMIT_TIMEOUT_S, retries=COMMIT_RETRIES)
        except ModelRejected as exc:
            if exc.code == ErrorCode.HASH_MISMATCH and progress.encoding != "plain" and not self._hash_failed_encoded:
                # The board decoded something else than the model (a base whose bytes are not
                # what its hash says, a decoder bug) and erased the slot: once more, plain.
                self._hash_failed_encoded = True
                raise UploadError(exc.code, exc.detail, f"{exc.text}; sending it again without encoding",
                                  board=self.target.name) from None  # fmt: skip
            reason = f"board refused the model: {exc.text}"
            self.emit("failed", reason=reason, phase="done")  # nothing was activated: the old model still runs
            return BoardResult(self.target.name, "failed", reason)
        assert isinstance(commit, CommitAck)
        if self._bases is not None:
            self._bases.put(self.model.data)  # the base of the next deploy's delta to this board
        self.emit("verified", slot=slot, arena_used=commit.arena_used, sha256=self.model.info.sha256)
        return slot, info, True

    @property
    def _client(self) -> BoardClient:
        assert self.client is not None
        return self.client

    async def _connect(self) -> Info:
        self.client = await self.target.connect()
        assert self.client.info is not None
        return self.client.info

    async def _reconnect(self, why: Exception | None) -> Info:
        """(Re)connect within the reconnect window; the board may be rebooting or re-enumerating."""
        if why is not None:
            self.emit("progress", phase="reconnecting", reason=str(why))
        await self.close()
        deadline = time.monotonic() + self.options.reconnect_window_s
        delay = 0.1
        while True:
            try:
                return await self._connect()
            except (TransportError, FleetTimeout) as exc:
                # A fleet lock names a process that drives the board: busy, say so now (a
                # probe's brief hold was waited out already). A device lock names no one and
                # may be a previous user still closing the port: try again, and if it lasts,
                # the board is busy, not unreachable.
                if why is None and isinstance(exc, PortBusy):
                    if exc.holder is not None or time.monotonic() + delay > deadline:
                        raise
                if time.monotonic() + delay > deadline:
                    raise FleetTimeout(
                        f"{self.target.name}: not reachable within {self.options.reconnect_window_s:g} s ({exc})"
                    ) from None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _clear_pending(self, info: Info) -> Info:
        """A model left in test by an interrupted deploy is rolled back before we start."""
        running = info.active
        if running is not None and running.state == SlotState.PENDING:
            await self._client.request(ModelRollback())
            info = await self._client.hello()
        return info

    def _on_progress(self, slot: int) -> Callable[[UploadProgress], None]:
        return lambda p: self._report_progress(p, slot)

    def _report_progress(self, p: UploadProgress, slot: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < self.options.progress_every_s:
            return
        self._last_progress = now
        self.emit("progress", phase="uploading", slot=slot, bytes=p.acked, total=p.size, rate=round(p.rate, 1),
                  eta=round(p.eta, 2) if p.eta is not None else None, retransmits=p.retransmits,
                  wire_bytes=p.wire_bytes, wire_rate=round(p.wire_rate, 1), encoding=p.encoding)  # fmt: skip

    async def _activate(self, slot: int, before: Info, activate: bool = True) -> BoardResult:
        previous = before.active if activate else _boot_slot(before)
        previous_text = f"{previous.name} {previous.version}".strip() if previous else "no model"
        client = self._client
        sub = client.subscribe(maxsize=4096)
        try:
            if client.info and client.info.capabilities & Capability.RESULTS:
                await client.request(self.target.health_streams)
            if activate:
                self.emit("progress", phase="activating", slot=slot)
                status = await client.request(ModelActivate(slot, ActivateMode.TEST))
                assert isinstance(status, SlotStatus)
                self.emit("activated", slot=slot, model=self.model.name, version=self.model.version)
                self.emit("progress", phase="health")
            else:
                self.emit("progress", phase="health", slot=slot,
                          reason="the board is testing this model already (an earlier deploy was interrupted)")  # fmt: skip
            try:
                inferences, latency = await self._health_check(sub)
            except _HealthFailed as exc:
                return await self._rollback(str(exc), previous_text)
            self.emit("progress", phase="confirming")
            self._confirm_sent = True
            try:
                confirm = await client.request(ModelConfirm(slot))
            except UploadError as exc:
                if exc.code != ErrorCode.NOT_PENDING:
                    raise
                # The board dropped the model under test: it reset after passing the health
                # check and before CONFIRM, and boots its previous model.
                return await self._settle(exc, await client.hello(), slot, previous_text)
            assert isinstance(confirm, SlotStatus)
            if confirm.active_slot != slot or confirm.slots[slot].state != SlotState.ACTIVE:
                raise FleetError(f"{self.target.name}: CONFIRM answered, but slot {slot} is not the active one")
            await client.request(self.target.after_streams)
        except (TransportError, FleetTimeout) as exc:
            return await self._after_link_loss(exc, slot, previous_text)
        finally:
            sub.close()
        self.emit("confirmed", slot=slot, model=self.model.name, version=self.model.version,
                  sha256=self.model.info.sha256, inferences=inferences, latency_us=latency, phase="done")  # fmt: skip
        return BoardResult(self.target.name, "confirmed")

    async def _health_check(self, sub: Subscription) -> tuple[int, int | None]:
        """N results from the new model within T seconds (and a latency budget, if set)."""
        want, limit = self.options.health_inferences, self.options.health_timeout_s
        prefix = self.model.sha256[:4]
        latencies: list[int] = []
        last_error: str | None = None
        deadline = time.monotonic() + limit
        while len(latencies) < want:
            remaining = deadline - time.monotonic()
            try:
                async with asyncio.timeout(max(remaining, 0)):  # not wait_for: see upload's _Sender.run
                    event = await sub.get()
            except TimeoutError:
                detail = f"; board said: {last_error}" if last_error else ""
                raise _HealthFailed(
                    f"health check failed: {len(latencies)} of {want} inferences from the new model within {limit:g} s"
                    f"{detail}"
                ) from None
            if isinstance(event, Boot):
                raise _HealthFailed("health check failed: the board rebooted while testing the new model")
            if isinstance(event, Log) and event.level >= LogLevel.ERROR:
                last_error = event.text
            if isinstance(event, InferResult) and event.model_prefix == prefix:
                latencies.append(event.latency_us)
        median = int(statistics.median(latencies)) if latencies else None
        budget = self.options.max_latency_us
        if budget is not None and median is not None and median > budget:
            raise _HealthFailed(
                f"health check failed: median latency {median / 1000:.1f} ms exceeds the {budget / 1000:.1f} ms budget"
            )
        return len(latencies), median

    async def _rollback(self, reason: str, previous_text: str) -> BoardResult:
        self.emit("progress", phase="rolling_back", reason=reason)
        status = await self._client.request(ModelRollback())
        assert isinstance(status, SlotStatus)
        await self._client.request(self.target.after_streams)
        running = status.active
        if running is not None and running.sha256 == self.model.sha256:
            raise FleetError(f"{self.target.name}: ROLLBACK answered, but the new model still runs")
        return self._rolled_back(reason, previous_text)

    def _rolled_back(self, reason: str, previous_text: str) -> BoardResult:
        full = f"{reason}; rolled back to {previous_text}"
        self.emit("rolled_back", reason=full, phase="done")
        return BoardResult(self.target.name, "rolled_back", full)

    async def _after_link_loss(self, exc: Exception, slot: int, previous_text: str) -> BoardResult:
        """The link broke after ACTIVATE: find out what the board runs now and make it safe."""
        return await self._settle(exc, await self._reconnect(exc), slot, previous_text)

    async def _settle(self, exc: Exception, info: Info, slot: int, previous_text: str) -> BoardResult:
        """After ACTIVATE something went wrong (`exc`): report what `info` says the board runs."""
        running = info.active
        if running is not None and running.sha256 == self.model.sha256:
            if running.state == SlotState.ACTIVE:  # our CONFIRM arrived; only its answer was lost
                self.emit("confirmed", slot=slot, model=self.model.name, version=self.model.version,
                          sha256=self.model.info.sha256, phase="done")  # fmt: skip
                return BoardResult(self.target.name, "confirmed")
            return await self._rollback(f"link lost during the health check ({exc})", previous_text)
        return self._rolled_back(f"the board reset before CONFIRM ({exc}) and came back on its previous model",
                                 previous_text)

