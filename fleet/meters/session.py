"""Meters as fleet devices: read each meter, and publish its figures as its board's events.

`MeterSet.attach(manager)` finds the meters (`fleet.meters.discovery`), pairs each with
the managed board it feeds (by name or uid; a meter whose board is not managed, or that
feeds none, is left closed and listed in `skipped`), and runs one `MeterSession` per
meter. A session:

- reads the meter (`Ppk2Driver`, `Lpm01aDriver`) and feeds its samples to an
  `EnergyReducer` (marker windows when a marker line is wired, else timestamp windows);
- maps the meter's clock onto the host's: meter time 0 = the smallest (arrival time -
  sample time) over the last `MAP_WINDOW_S` of reads, since no sample arrives before it
  was taken (the error is the meter's delivery latency: see docs/power.md); a meter with
  edge timestamps (the LPM01A's D7 `TimeStamp` lines) maps each result's board time
  through its `device_clock` instead, once locked, and lets the reducer move the window by
  up to the lock's ε onto the inference's current (`ResultMark.search_us`);
- gives every `result` event of its board to the reducer, and publishes, through the
  manager (so states, recordings, MQTT and every view get them), a `power` event and a
  `trace` event (the current decimated to min/max per 2 ms, `fleet.meters.trace`) each
  `power_interval_s` of meter time and an `energy` event per inference, all labelled
  `meter:<kind> <serial>`.

A meter that cannot be opened or fails is reported as an ERROR `log` event of its board;
samples it lost, and bytes of its stream that were no samples (skipped by the driver,
never decoded), as a WARN, at most one each `LOSS_WARN_INTERVAL_S` of host time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field

from fleet.cancel import cancel_and_wait
from fleet.errors import FleetError
from fleet.meters.chunk import MeterChunk, MeterDriver
from fleet.meters.discovery import MeterCandidate, find_meters
from fleet.meters.energy import EnergyReducer, InferenceEnergy, ResultMark
from fleet.meters.identity import METER_KINDS
from fleet.meters.lpm01a_driver import Lpm01aDriver
from fleet.meters.ppk2_driver import Ppk2Driver
from fleet.meters.trace import TraceDecimator
from fleet.telemetry.events import EnergyEvent, LogEvent, PowerEvent, ResultEvent, TraceEvent, trusted
from fleet.transport.base import Transport
from fleet.transport.serial import open_transport

MAP_WINDOW_S = 5.0
LOSS_WARN_INTERVAL_S = 1.0
POWER_INTERVAL_S = 0.1


def open_driver(candidate: MeterCandidate, transport: Transport) -> MeterDriver:
    """The driver for a meter, with its devices.toml settings (or the kind's defaults)."""
    s = candidate.settings
    voltage = s.voltage_mv if s else 3300
    if candidate.kind == "ppk2":
        channel = (s.channel if s else 0) if candidate.uses_marker else None
        return Ppk2Driver(transport, candidate.serial, voltage_mv=voltage, mode=s.mode if s else "source",
                          marker_channel=channel)  # fmt: skip
    return Lpm01aDriver(transport, candidate.serial, voltage_mv=voltage)


@dataclass(slots=True)
class _ClockMap:
    """Meter time 0 on the host's wall clock: the minimum of (arrival - sample time) over a window."""

    window_s: float = MAP_WINDOW_S
    _seen: deque[tuple[float, float]] = field(default_factory=deque)  # (arrival, candidate), candidates ascending

    def add(self, arrival: float, meter_end_us: float) -> None:
        candidate = arrival - meter_end_us / 1e6
        while self._seen and self._seen[-1][1] >= candidate:
            self._seen.pop()  # a later, smaller candidate makes it useless (monotonic deque)
        self._seen.append((arrival, candidate))
        while self._seen[0][0] < arrival - self.window_s:
            self._seen.popleft()

    @property
    def zero(self) -> float | None:
        return self._seen[0][1] if self._seen else None


class MeterSession:
    """One meter feeding one board; see the module doc."""

    def __init__(self, manager, candidate: MeterCandidate, board: str, uid: str, *,  # noqa: ANN001 - FleetManager
                 power_interval_s: float = POWER_INTERVAL_S) -> None:  # fmt: skip
        self.manager = manager
        self.candidate = candidate
        self.board, self.uid = board, uid
        self.label = candidate.label
        baseline = candidate.settings.baseline if candidate.settings else False
        self.reducer = EnergyReducer("marker" if candidate.uses_marker else "timestamp", baseline=baseline)
        self.power_interval_us = power_interval_s * 1e6
        self.clock = _ClockMap()
        self.trace = TraceDecimator()
        self._windows: list[tuple[float, float, float]] = []  # measured since the last trace event
        self.driver: MeterDriver | None = None
        self.error: str | None = None
        self.results_early = 0  # results before the meter's clock was known: not measured
        self.lost_samples = 0
        self._unsaid = (0, 0)  # samples lost and bytes skipped since the last WARN
        self._said_at: float | None = None  # host time of the last WARN
        self._last_power: tuple[float, float] | None = None  # (meter time, cumulative µJ) of the last power event

    async def run(self) -> None:
        try:
            transport = await open_transport(self.candidate.port, 115200, purpose="meter")
        except FleetError as exc:
            self._fail(f"cannot open: {exc}")
            return
        try:
            self.driver = open_driver(self.candidate, transport)
            await self.driver.start()
            while True:
                self.on_chunk(await self.driver.read())
        except FleetError as exc:
            self._fail(str(exc))
        finally:
            if self.driver is not None:
                with contextlib.suppress(FleetError, OSError):
                    await self.driver.stop()
            await transport.close()

    def on_chunk(self, chunk: MeterChunk) -> None:
        """Samples from the meter."""
        if chunk.lost_samples or chunk.damaged_bytes or self._unsaid != (0, 0):
            self._note_loss(chunk)
        if not len(chunk.current_a):
            return
        arrival = chunk.arrival
        self.clock.add(arrival, chunk.end_us)
        self.trace.feed(chunk.t0_us, chunk.period_us, chunk.current_a)
        self._publish(self.reducer.feed_samples(chunk.t0_us, chunk.period_us, chunk.current_a, chunk.volts,
                                                chunk.marker))  # fmt: skip
        total = self.reducer.timeline.total_uj
        if self._last_power is None:
            self._last_power = (chunk.t0_us, 0.0)
        t0, e0 = self._last_power
        if chunk.end_us - t0 >= self.power_interval_us:
            power_w = (total - e0) / (chunk.end_us - t0)  # µJ / µs
            self._last_power = (chunk.end_us, total)
            zero = self.clock.zero or arrival
            self.manager.publish(trusted(PowerEvent)(
                board=self.board, uid=self.uid, host_time=zero + chunk.end_us / 1e6,
                device_time_us=round(chunk.end_us), voltage_mv=round(chunk.volts * 1000),
                current_ua=round(power_w / chunk.volts * 1e6), energy_uj=int(total), power_mw=power_w * 1000,
                source=self.label,
            ))  # fmt: skip
            trace = self.trace.take()
            if trace is not None:
                start, lows, highs = trace
                self.manager.publish(trusted(TraceEvent)(
                    board=self.board, uid=self.uid, host_time=zero + start / 1e6,
                    device_time_us=round(start),
                    bucket_us=self.trace.bucket_us, min_ua=tuple(lows), max_ua=tuple(highs),
                    windows=tuple(self._windows), source=self.label,
                ))  # fmt: skip
                self._windows.clear()

    def on_result(self, event: ResultEvent) -> None:
        zero = self.clock.zero
        if zero is None:
            self.results_early += 1
            return
        meter_end = (event.host_time - zero) * 1e6
        search = 0.0
        edges = self.driver.device_clock if self.driver is not None else None
        if edges is not None:  # the board's own timestamp, once the meter's edges lock the two clocks
            edges.add_result(event.device_time_us, meter_end)
            aligned = edges.to_meter(event.device_time_us)
            if aligned is not None and edges.error_us is not None:
                # Within ε of the truth: the window may move that far onto the inference's current.
                meter_end, search = aligned, edges.error_us + edges.sample_us
        mark = ResultMark(event.inference_count, event.device_time_us, event.latency_us, meter_end, search)
        self._publish(self.reducer.feed_result(mark))

    def _publish(self, energies: list[InferenceEnergy]) -> None:
        zero = self.clock.zero or time.time()
        for e in energies:
            self._windows.append((round(e.start_us, 1), round(e.end_us, 1), round(e.energy_uj, 3)))
            self.manager.publish(trusted(EnergyEvent)(
                board=self.board, uid=self.uid, host_time=zero + e.end_us / 1e6,
                device_time_us=e.device_time_us,
                inference_count=e.inference_count, energy_uj=e.energy_uj, duration_us=e.duration_us,
                power_mw=e.power_mw, baseline_uj=e.baseline_uj, method=e.method, source=self.label,
            ))  # fmt: skip

    def _note_loss(self, chunk: MeterChunk) -> None:
        """Count what the meter lost; say it, at most once per LOSS_WARN_INTERVAL_S (what waits
        is said with a later chunk, lost or not)."""
        self.lost_samples += chunk.lost_samples
        lost, skipped = self._unsaid[0] + chunk.lost_samples, self._unsaid[1] + chunk.damaged_bytes
        self._unsaid = (lost, skipped)
        if self._said_at is not None and chunk.arrival - self._said_at < LOSS_WARN_INTERVAL_S:
            return
        said = [f"{lost} samples lost"] if lost else []
        said += [f"{skipped} bytes of its stream that were no samples skipped"] if skipped else []
        self._log(2, f"{' and '.join(said)} ({self.lost_samples} samples lost since it started)")
        self._unsaid, self._said_at = (0, 0), chunk.arrival

    def _fail(self, why: str) -> None:
        self.error = why
        self._log(3, why)

    def _log(self, level: int, text: str) -> None:
        """A WARN (2) or ERROR (3) `log` event of its board, naming the meter."""
        self.manager.publish(LogEvent(board=self.board, uid=self.uid, host_time=time.time(), device_time_us=0,
                                      level=level, text=f"{self.label} on {self.candidate.port}: {text}"))  # fmt: skip


class MeterSet:
    """The meters of a manager's boards; `await MeterSet.attach(manager)`, then `stop()`."""

    def __init__(self, manager) -> None:  # noqa: ANN001 - FleetManager
        self.manager = manager
        self.sessions: dict[str, MeterSession] = {}  # by board uid
        self.skipped: list[tuple[MeterCandidate, str]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._consumer = None

    @classmethod
    async def attach(cls, manager, candidates: list[MeterCandidate] | None = None) -> MeterSet:  # noqa: ANN001
        meters = cls(manager)
        meters.start(find_meters(manager.config) if candidates is None else candidates)
        return meters

    def feeds(self, uid: str) -> bool:
        """Whether a meter that has not failed feeds this board."""
        session = self.sessions.get(uid)
        return session is not None and session.error is None

    def start(self, candidates: list[MeterCandidate]) -> None:
        boards = self.manager.boards
        for candidate in candidates:
            state = next((b for b in boards.values() if candidate.board in (b.name, b.uid)), None)
            if candidate.kind not in METER_KINDS:  # a registry entry fleet did not write: no driver, no label
                self.skipped.append((candidate, f"unknown kind {candidate.kind!r}: one of {', '.join(METER_KINDS)}"))
            elif candidate.board is None:
                self.skipped.append((candidate, "feeds no board: name it in devices.toml [[meters]]"))
            elif state is None:
                self.skipped.append((candidate, f"its board {candidate.board} is not managed"))
            elif state.uid in self.sessions:
                self.skipped.append((candidate, f"{state.name} already has a meter"))
            else:
                self.sessions[state.uid] = MeterSession(self.manager, candidate, state.name, state.uid)
        if not self.sessions:
            return
        loop = asyncio.get_running_loop()
        self._consumer = consumer = self.manager.subscribe(maxsize=1 << 16, name="meters")
        self._tasks = [loop.create_task(self._results(consumer), name="meters: results")]
        self._tasks += [loop.create_task(s.run(), name=f"meter {s.label}") for s in self.sessions.values()]

    async def _results(self, consumer) -> None:  # noqa: ANN001 - Consumer
        async for event in consumer:
            if isinstance(event, ResultEvent) and (session := self.sessions.get(event.uid)) is not None:
                session.on_result(event)

    async def stop(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
        tasks, self._tasks = self._tasks, []
        await cancel_and_wait(*tasks)
