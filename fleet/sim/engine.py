"""The board engine: the device side of protocol v1, without I/O.

A `BoardEngine` consumes the bytes a host sends and returns the encoded frames the board
sends back. Three entry points, all synchronous and driven by an injected `Clock`:

- `receive(data)`: bytes from the host; returns responses (and the events they cause).
- `tick(tx_room)`: stream events due by now (INFER_RESULT, POWER); `next_deadline_us()`
  says when to call it again.
- `boot(reason)`: power-on or reset: RAM state is lost, slots are kept, BOOT is sent.

The COMMIT test-load can take a while the first time a model is seen (the arena is
measured in a child process), so the engine does not run it inline: it parks the request
in `pending_work`, answers nothing more until `finish_work(result)` (requests received
meanwhile are queued and answered in order, as a board busy in flash verification would),
and lets the runner execute the work in a thread. `run_pending()` does it inline for tests.

The engine boots the board, dispatches requests, runs the streams and answers the small
requests itself (HELLO, PING, STREAM_CONFIG, REBOOT, RUNTIME). It composes the parts that
each hold one concept: request dispatch (`dispatch.py`), the model requests and the running
model (`model_lifecycle.py`, over the slots in flash, `slots.py`, and encoded uploads,
`encoded_upload.py`), the inference schedule and busy time (`scheduling.py`), the POWER
stream (`power.py`) and the applied STREAM_CONFIG (`streams.py`). Schedules live in the clock's
time, so a fake clock makes every figure exact; `max_lag_us` lets a board running on the
real clock skip ahead instead of bursting when the host fell behind (a slow real invoke, a
busy event loop).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from fleet.error_codes import ErrorCode
from fleet.errors import FleetError
from fleet.profiles import Profile
from fleet.protocol import (
    MAX_UID, PROTOCOL_VERSION, Boot, BootReason, Capability, Error, FrameDecoder, Header, Hello, InferResult, Info,
    Log, LogLevel, Message, MsgType, Ping, Pong, Power, Reboot, RebootAck, Runtime, RuntimeInfo, StreamConfig,
    encode_error, encode_message,
)  # fmt: skip
from fleet.sim.clock import Clock
from fleet.sim.dispatch import Handler, RequestDispatcher
from fleet.sim.loader import LoadedModel, ModelLoader, encode_output
from fleet.sim.model_lifecycle import ModelLifecycle, PendingWork
from fleet.sim.power import PowerModel, PowerStream
from fleet.sim.refusal import Refusal
from fleet.sim.runtime import board_runtime
from fleet.sim.scheduling import InferenceSchedule, Span
from fleet.sim.slots import SlotStore, active_slot_byte
from fleet.sim.streams import StreamSettings

log = logging.getLogger(__name__)

FIRMWARE_VERSION = "fleet-sim 0.1.0"
CAPABILITIES = (
    Capability.RESUME | Capability.RESULTS | Capability.POWER | Capability.LOG | Capability.REBOOT | Capability.RUNTIME
    | Capability.DEFLATE | Capability.DELTA
)


@dataclass(frozen=True, slots=True)
class BoardConfig:
    """What a virtual board is: its profile, its uid, and its link parameters."""

    profile: Profile
    uid: bytes
    firmware_version: str = FIRMWARE_VERSION
    max_payload: int = 1024
    rx_window: int = 4096
    seed: int = 0  # the board's input sequence
    max_lag_us: int | None = None
    capabilities: int | None = None  # None: CAPABILITIES; fewer bits make a board like older firmware

    def __post_init__(self) -> None:
        if not 0 < len(self.uid) <= MAX_UID:
            raise ValueError(f"uid must be 1..{MAX_UID} bytes, got {len(self.uid)}")


@dataclass(slots=True)
class BoardStats:
    """What a board has seen since it was created (not reset by reboots)."""

    requests: int = 0
    errors: int = 0
    ignored: int = 0  # responses or events a host sent to the board
    events: int = 0
    boots: int = 0


class BoardEngine:
    """Device side of protocol v1 for one virtual board; see the module doc."""

    def __init__(self, config: BoardConfig, store: SlotStore, clock: Clock, loader: ModelLoader | None = None) -> None:
        self.config = config
        self.profile = config.profile
        self.store = store
        self.clock = clock
        self.loader = loader or ModelLoader(config.profile, seed=config.seed)
        self.power_model = PowerModel.from_profile(config.profile)
        self.stats = BoardStats()
        # Called with (start_us, end_us), clock time, for every span of busy time as it is
        # accounted: what a marker line high during each inference shows an external meter.
        self.busy_listener: Callable[[int, int], None] | None = None
        self.models = ModelLifecycle(store, self.loader, self.capabilities, config.profile.slot_bytes, self._log,
                                     self._model_changed)  # fmt: skip
        self.requests = RequestDispatcher(config.max_payload, self._handlers(), self._respond, self._error,
                                          self.stats, config.uid.hex())  # fmt: skip
        self._out: list[bytes] = []
        self._reset_ram()

    # --- public entry points ---------------------------------------------------------

    @property
    def capabilities(self) -> int:
        """The capability bits this board declares in INFO."""
        return int(CAPABILITIES) if self.config.capabilities is None else self.config.capabilities

    @property
    def running(self) -> int | None:
        """The slot whose model runs now, or None."""
        return self.models.running

    @property
    def model(self) -> LoadedModel | None:
        return self.models.model

    @property
    def pending_work(self) -> PendingWork | None:
        """The COMMIT test-load parked until `finish_work`, or None."""
        return self.models.pending

    @property
    def settings(self) -> StreamSettings:
        return self._settings

    @property
    def decoder(self) -> FrameDecoder:
        """The decoder of the host's bytes (its stats count line errors)."""
        return self.requests.decoder

    @property
    def device_time_us(self) -> int:
        """The board's own microsecond clock: time since boot."""
        return self.clock.now_us() - self._boot_us

    @property
    def inference_count(self) -> int:
        return self._schedule.count

    @property
    def busy_us(self) -> int:
        """Simulated inference time since boot, counting the part of one in progress."""
        return self._schedule.busy_at(self.clock.now_us())

    @property
    def inference_started_us(self) -> int | None:
        """Clock time the inference in progress started (its busy span is not reported yet), or None."""
        return self._schedule.start_us if self._schedule.active else None

    def energy_uj(self) -> int:
        """Energy used since boot, by the power model."""
        return self.power_model.energy_uj(self.device_time_us, self.busy_us)

    def boot(self, reason: BootReason = BootReason.POWER_ON) -> list[bytes]:
        """Start (or restart) the board: RAM lost, pending test reverted, BOOT sent first."""
        self._boot(reason)
        return self._flush()

    def _boot(self, reason: BootReason) -> None:
        self._reset_ram()
        self.store.boot()
        self.stats.boots += 1
        self._event(Boot(int(reason), self.store.boot_count))
        self.models.start_active()
        running = self.models.running
        self._log(LogLevel.INFO, f"boot #{self.store.boot_count} ({reason.name.lower()}), "
                  f"model: {'slot ' + str(running) if running is not None else 'none'}")  # fmt: skip

    def receive(self, data: bytes) -> list[bytes]:
        """Bytes from the host; returns the frames to send back, in order."""
        self.requests.feed(data)
        self._drain_queue()
        return self._flush()

    def run_pending(self) -> list[bytes]:
        """Run parked work inline (tests, or a runner without threads) and continue."""
        out: list[bytes] = []
        while self.pending_work is not None:
            work = self.pending_work
            out += self.finish_work(work, work.run())
        return out

    def finish_work(self, work: PendingWork, result: LoadedModel | Refusal) -> list[bytes]:
        """Deliver the result of `work`; answers the parked COMMIT and the requests queued behind it."""
        if work is not self.pending_work:  # the board rebooted meanwhile: the work is void
            return []
        self.models.finish_commit(work, result, self.requests.answer_parked)
        self._drain_queue()
        return self._flush()

    def tick(self, tx_room: int | None = None) -> list[bytes]:
        """Stream events due by now, in time order.

        `tx_room` is how many bytes the board's transmit path can take now (None:
        unlimited). When it runs out, inference waits, as firmware blocked in a serial
        write would; the next inference starts once there is room.
        """
        now = self.clock.now_us()
        lag = self.config.max_lag_us
        schedule = self._schedule
        sent = 0
        while True:
            infer_at = schedule.finish_us() if schedule.active else None
            power_at = self._power_stream.next_us if self._settings.power else None
            due = [t for t in (infer_at, power_at) if t is not None and t <= now]
            if not due:
                break
            if tx_room is not None and sent >= tx_room:
                schedule.tx_blocked = infer_at is not None and infer_at <= now
                break
            if infer_at is not None and infer_at == min(due):
                if lag is not None and now - infer_at > lag:
                    self._cut_inference(now)  # fell behind: skip ahead; the gap after it counts as idle
                    continue
                sent += self._infer(now)
            else:
                assert power_at is not None
                if lag is not None and now - power_at > lag:
                    power_at = now
                sent += self._power(power_at)
        return self._flush()

    def next_deadline_us(self) -> int | None:
        """Clock time of the next stream event, or None when no stream is due ever."""
        times = []
        if self._schedule.active:
            times.append(self._schedule.finish_us())
        if self._settings.power:
            times.append(self._power_stream.next_us)
        return min(times) if times else None

    # --- request dispatch ------------------------------------------------------------

    def _drain_queue(self) -> None:
        requests = self.requests
        while requests.queue and self.models.pending is None:
            requests.handle(requests.queue.popleft())
            if self._reboot_requested:
                self._reboot_requested = False
                self._boot(BootReason.REQUESTED)
                return

    def _respond(self, header: Header, response: Message) -> None:
        self._out.append(encode_message(response, header.seq))

    def _error(self, header: Header, refusal: Refusal) -> None:
        self.stats.errors += 1
        self._out.append(encode_error(Error(int(refusal.code), refusal.detail, refusal.text), header.type, header.seq))
        if refusal.code not in (ErrorCode.UNSUPPORTED_VERSION, ErrorCode.UNKNOWN_TYPE, ErrorCode.BAD_PAYLOAD):
            self._log(LogLevel.WARN, f"request 0x{header.type:02x} refused: {refusal.code.name} {refusal.text}")

    # --- requests --------------------------------------------------------------------

    def _handlers(self) -> dict[int, Handler]:
        """Every request type's handler: the board's own small ones and the model requests."""
        return {
            MsgType.HELLO: self._hello,
            MsgType.PING: self._ping,
            MsgType.STREAM_CONFIG: self._stream_config,
            MsgType.REBOOT: self._reboot,
            MsgType.RUNTIME: self._runtime,
            **self.models.handlers(),
        }

    def _hello(self, _: Hello) -> Info:
        return Info(
            proto_version=PROTOCOL_VERSION,
            active_slot=active_slot_byte(self.models.running),
            max_payload=self.config.max_payload,
            capabilities=self.capabilities,
            rx_window=self.config.rx_window,
            arena_bytes=self.profile.arena_bytes,
            slot_bytes=self.profile.slot_bytes,
            cpu_hz=self.profile.cpu_hz,
            uid=self.config.uid,
            board_kind=self.profile.name,
            firmware_version=self.config.firmware_version,
            slots=self.store.infos(),
        )

    def _ping(self, ping: Ping) -> Pong:
        limit = self.config.max_payload - 8
        if len(ping.data) > limit:
            raise Refusal(ErrorCode.BAD_PAYLOAD, f"ping data of {len(ping.data)} bytes; at most {limit}", limit)
        return Pong(self.device_time_us, ping.data)

    def _stream_config(self, request: StreamConfig) -> Message:
        before = self._settings
        after = StreamSettings.apply(request)
        now = self.clock.now_us()
        if after.results and not before.results:
            self._schedule.start(now)
        elif before.results and not after.results:
            self._cut_inference(now)
        if after.power and (not before.power or after.power_interval_ms != before.power_interval_ms):
            self._power_stream.restart(now, after.power_interval_ms, now - self._boot_us, self._schedule.busy_at(now))
        self._settings = after
        self._schedule.results = after.results
        return after.ack()

    def _reboot(self, request: Reboot) -> RebootAck:
        if request.mode != 0:
            raise Refusal(ErrorCode.BAD_PAYLOAD, f"reboot mode {request.mode}; v1 has only 0 (normal)", request.mode)
        self._log(LogLevel.INFO, "reboot requested")
        self._reboot_requested = True
        return RebootAck()

    def _runtime(self, _: Runtime) -> RuntimeInfo:
        try:
            return board_runtime(self.profile)
        except FleetError as exc:  # no host interpreter to ask: say so rather than claim anything
            raise Refusal(ErrorCode.INTERNAL, f"cannot list operators: {exc}") from None

    # --- the running model -----------------------------------------------------------

    def _model_changed(self, model: LoadedModel | None) -> None:
        """A model started (`model`) or stopped (None): the inference in progress ends, the
        next one is the new model's."""
        now = self.clock.now_us()
        self._cut_inference(now)
        self._schedule.latency_us = None if model is None else model.latency_us
        if model is not None:
            self._schedule.start(now)

    # --- streams ---------------------------------------------------------------------

    def _cut_inference(self, now: int) -> None:
        self._report_busy(self._schedule.cut(now))

    def _report_busy(self, span: Span | None) -> None:
        if span is not None and self.busy_listener is not None:
            self.busy_listener(*span)

    def _infer(self, now: int) -> int:
        model = self.models.model
        assert model is not None
        try:
            input_id, output = model.infer()
        except Exception as exc:  # noqa: BLE001 - TFLM raises RuntimeError; any failure stops the model
            self._log(LogLevel.ERROR, f"inference failed ({exc}); model stopped")
            self.models.stop()
            return 0
        start, finish = self._schedule.complete(now, self._settings.result_interval_ms)
        self._report_busy((start, finish))
        spec = model.info.outputs[0]
        fmt, data = encode_output(output, self._settings.top_k)
        return self._event(InferResult(
            finish - self._boot_us, model.latency_us, self._schedule.count, input_id & 0xFFFFFFFF, model.prefix,
            spec.type_code, int(fmt), spec.scale, spec.zero_point, data,
        ))  # fmt: skip

    def _power(self, at: int) -> int:
        busy = self._schedule.busy_at(at)
        sample = self._power_stream.sample(at, self._settings.power_interval_ms, at - self._boot_us, busy)
        return self._event(Power(at - self._boot_us, sample.voltage_mv, sample.current_ua, sample.energy_uj))

    # --- events ----------------------------------------------------------------------

    def _event(self, msg: Message) -> int:
        frame = encode_message(msg, self._event_seq)
        self._event_seq = (self._event_seq + 1) & 0xFFFF
        self.stats.events += 1
        self._out.append(frame)
        return len(frame)

    def _log(self, level: LogLevel, text: str) -> None:
        log.debug("virtual board %s: %s", self.config.uid.hex(), text)
        if self._settings.logs(level):
            self._event(Log(self.device_time_us, int(level), text))

    def _flush(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    def _reset_ram(self) -> None:
        """Everything a reset loses."""
        self._boot_us = self.clock.now_us()
        self._settings = StreamSettings()
        self._event_seq = 0
        self._schedule = InferenceSchedule(self._boot_us)
        self._power_stream = PowerStream(self.power_model, self._boot_us)
        self._reboot_requested = False
        self.models.reset()
        self.requests.reset()
