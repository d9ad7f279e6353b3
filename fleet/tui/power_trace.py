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
    buckets: deque[tuple[float, float, float | None, float | None]] = field(
        default_factory=lambda: deque(maxlen=BUCKETS)
    )  # (start, end, min µA, max µA)
    _metered_windows: deque[Window] = field(default_factory=lambda: deque(maxlen=WINDOWS))
    # Without a meter, the newest results: their windows are built when read (4 times a second
    # for the board on screen), not for each of the 200 results a second of every board.
    _timed: deque[ResultEvent] = field(default_factory=lambda: deque(maxlen=WINDOWS))
    _last_power: float | None = None

    @property
    def metered(self) -> bool:
        return self.source is not None and self.source.startswith("meter:")

    @property
    def windows(self) -> list[Window]:
        """The newest `WINDOWS` inference windows, oldest first."""
        if self.metered:
            return list(self._metered_windows)
        return [Window(e.host_time - e.latency_us / 1e6, e.host_time) for e in self._timed]

    def add_trace(self, event: TraceEvent) -> None:
        if not self.metered:
            self.buckets.clear()  # the board's own coarse samples (host clock) give way to the meter's
            self._timed.clear()
        self.source = event.source
        width = event.bucket_us / 1e6
        for i, (lo, hi) in enumerate(zip(event.min_ua, event.max_ua, strict=True)):
            start = event.device_time_us / 1e6 + i * width
            self.buckets.append((start, start + width, lo, hi))
        for start_us, end_us, uj in event.windows:
            self._metered_windows.append(Window(start_us / 1e6, end_us / 1e6, uj))

    def add_energy(self, event: EnergyEvent) -> None:
        self.method = event.method  # the window itself comes with the trace, on the meter's clock

    def add_power(self, event: PowerEvent) -> None:
        if self.metered or event.source.startswith("meter:"):
            return  # a meter's current comes as its trace
        self.source = event.source
        start = self._last_power if self._last_power is not None else event.host_time
        self._last_power = event.host_time
        self.buckets.append((start, event.host_time, event.current_ua, event.current_ua))

    def add_powers(self, events: Sequence[PowerEvent]) -> None:
        """`add_power` of each event in turn; only the newest `BUCKETS` are built."""
        if self.metered:
            return
        kept = f.rows(events)
        if any(source.startswith("meter:") for source in set(map(f.SOURCE, kept))):
            kept = [row for row in kept if not row["source"].startswith("meter:")]
        if not kept:
            return
        tail = kept[-BUCKETS:]
        times = list(map(f.TIME, tail))
        if len(tail) < len(kept):
            first = kept[-len(tail) - 1]["host_time"]
        else:
            first = self._last_power if self._last_power is not None else times[0]
        currents = list(map(f.CURRENT, tail))
        self.buckets.extend(zip([first, *times[:-1]], times, currents, currents))
        self.source = tail[-1]["source"]
        self._last_power = times[-1]

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
        recent = list(self.buckets)[-width:] if width > 0 else []
        windows = [w for w in self.windows if recent and w.end > recent[0][0]]
        columns = []
        for start, end, lo, hi in recent:
            inside = tuple(w for w in windows if w.start < end and w.end > start)
            columns.append(Column(start, end, lo, hi, inside))
        return columns
