"""A board's recent supply current and inference windows, for the detail screen's trace.

Fed from manager-level events only: a meter's `trace` events (current min/max per 2 ms
bucket, and the inference windows measured meanwhile with their µJ, both on the meter's
clock, so they line up exactly whatever the host's mapping of that clock does) and its
`energy` events' method; for a board no meter feeds, its own `power` events (one bucket
per sample) and its `result` events' [finish − latency, finish] windows on the host's
clock, which carry no energy. `columns()` gives the newest buckets, one per column, each
with the windows that overlap it. Nothing here reads the wall clock, so a replay draws the
same. No Textual here: tested without a terminal.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from fleet.telemetry.events import EnergyEvent, PowerEvent, ResultEvent, TraceEvent
from fleet.tui import event_fields as f

BUCKETS = 1024  # enough for the widest terminal
WINDOWS = 256


class Window(NamedTuple):
    """One inference (meter seconds, or host seconds without a meter); `energy_uj` when a meter measured it.

    A named tuple: the detail screen builds up to `WINDOWS` of them at each redraw, and a
    frozen dataclass costs several times as much to build."""

    start: float
    end: float
    energy_uj: float | None = None


@dataclass(frozen=True, slots=True)
class Column:
    """One bucket of the trace as drawn: its current range (None: no samples) and windows."""

    start: float
    end: float
    min_ua: float | None
    max_ua: float | None
    windows: tuple[Window, ...]


@dataclass(slots=True)
class PowerTrace:
    """See the module doc."""

    source: str | None = None  # who measured the current: a meter's label, `sensor` or `modelled`
    method: str | None = None  # how windows were cut: marker or timestamp (meter), latency (board)
    _metered_buckets: deque[tuple[float, float, float | None, float | None]] = field(
        default_factory=lambda: deque(maxlen=BUCKETS)
    )
    _metered_windows: deque[Window] = field(default_factory=lambda: deque(maxlen=WINDOWS))
    # Without a meter, the newest power samples and results: their buckets and windows are
    # built when read (4 times a second for the board on screen), not for each event of every
    # board. One sample more than BUCKETS: the oldest bucket starts at the sample before it.
    _sampled: deque[PowerEvent] = field(default_factory=lambda: deque(maxlen=BUCKETS + 1))
    _sampled_count: int = 0  # samples kept since the trace began (or a meter's took over)
    _timed: deque[ResultEvent] = field(default_factory=lambda: deque(maxlen=WINDOWS))

    @property
    def metered(self) -> bool:
        return self.source is not None and self.source.startswith("meter:")

    @property
    def buckets(self) -> list[tuple[float, float, float | None, float | None]]:
        """The newest `BUCKETS` buckets, oldest first: (start, end, min µA, max µA)."""
        if self.metered:
            return list(self._metered_buckets)
        samples = list(self._sampled)
        out = [(before.host_time, e.host_time, e.current_ua, e.current_ua) for before, e in zip(samples, samples[1:])]
        if samples and self._sampled_count == len(samples):  # the very first sample: a bucket of no width
            first = samples[0]
            out.insert(0, (first.host_time, first.host_time, first.current_ua, first.current_ua))
        return out[-BUCKETS:]

    @property
    def windows(self) -> list[Window]:
        """The newest `WINDOWS` inference windows, oldest first."""
        if self.metered:
            return list(self._metered_windows)
        return [Window(e.host_time - e.latency_us / 1e6, e.host_time) for e in self._timed]

    def add_trace(self, event: TraceEvent) -> None:
        if not self.metered:
            self._sampled.clear()  # the board's own coarse samples (host clock) give way to the meter's
            self._sampled_count = 0
            self._timed.clear()
        self.source = event.source
        width = event.bucket_us / 1e6
        for i, (lo, hi) in enumerate(zip(event.min_ua, event.max_ua, strict=True)):
            start = event.device_time_us / 1e6 + i * width
            self._metered_buckets.append((start, start + width, lo, hi))
        for start_us, end_us, uj in event.windows:
            self._metered_windows.append(Window(start_us / 1e6, end_us / 1e6, uj))

    def add_energy(self, event: EnergyEvent) -> None:
        self.method = event.method  # the window itself comes with the trace, on the meter's clock

    def add_power(self, event: PowerEvent) -> None:
        if self.metered or event.source.startswith("meter:"):
            return  # a meter's current comes as its trace
        self.source = event.source
        self._sampled.append(event)
        self._sampled_count += 1

    def add_powers(self, events: Sequence[PowerEvent]) -> None:
        """`add_power` of each event in turn."""
        if self.metered or not events:
            return
        kept = events
        if any(source.startswith("meter:") for source in set(map(f.SOURCE, f.rows(events)))):
            kept = [e for e in events if not e.source.startswith("meter:")]
            if not kept:
                return
        self.source = kept[-1].source
        self._sampled.extend(kept)
        self._sampled_count += len(kept)

    def add_results(self, events: Sequence[ResultEvent]) -> None:
        """`add_result` of each event in turn."""
        if self.metered or not events:
            return
        self.method = "latency"
        self._timed.extend(events[-WINDOWS:])

    def add_result(self, event: ResultEvent) -> None:
        if self.metered:
            return  # the meter's windows, with their energy
        self.method = "latency"
        self._timed.append(event)

    def columns(self, width: int) -> list[Column]:
        """The newest `width` buckets, oldest first."""
        recent = self.buckets[-width:] if width > 0 else []
        windows = [w for w in self.windows if recent and w.end > recent[0][0]]
        columns = []
        for start, end, lo, hi in recent:
            inside = tuple(w for w in windows if w.start < end and w.end > start)
            columns.append(Column(start, end, lo, hi, inside))
        return columns
