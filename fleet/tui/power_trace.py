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
from itertools import repeat
from operator import attrgetter
from typing import NamedTuple

from fleet.telemetry.events import EnergyEvent, PowerEvent, ResultEvent, TraceEvent

BUCKETS = 1024  # enough for the widest terminal
WINDOWS = 256
_TIME, _CURRENT, _SOURCE = attrgetter("host_time"), attrgetter("current_ua"), attrgetter("source")


class Window(NamedTuple):
    """One inference (meter seconds, or host seconds without a meter); `energy_uj` when a meter measured it.

    A named tuple: one is made per result (200 a second per board), a frozen dataclass costs
    several times as much to build."""

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
    windows: deque[Window] = field(default_factory=lambda: deque(maxlen=WINDOWS))
    _last_power: float | None = None

    @property
    def metered(self) -> bool:
        return self.source is not None and self.source.startswith("meter:")

    def add_trace(self, event: TraceEvent) -> None:
        if not self.metered:
            self.buckets.clear()  # the board's own coarse samples (host clock) give way to the meter's
            self.windows.clear()
        self.source = event.source
        width = event.bucket_us / 1e6
        for i, (lo, hi) in enumerate(zip(event.min_ua, event.max_ua, strict=True)):
            start = event.device_time_us / 1e6 + i * width
            self.buckets.append((start, start + width, lo, hi))
        for start_us, end_us, uj in event.windows:
            self.windows.append(Window(start_us / 1e6, end_us / 1e6, uj))

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
        kept = events
        if any(source.startswith("meter:") for source in set(map(_SOURCE, events))):
            kept = [e for e in events if not e.source.startswith("meter:")]
        if not kept:
            return
        tail = kept[-BUCKETS:]
        if len(tail) < len(kept):
            first = kept[-len(tail) - 1].host_time
        else:
            first = self._last_power if self._last_power is not None else tail[0].host_time
        times = list(map(_TIME, tail))
        currents = list(map(_CURRENT, tail))
        self.buckets.extend(zip([first, *times[:-1]], times, currents, currents))
        self.source = tail[-1].source
        self._last_power = times[-1]

    def add_results(self, events: Sequence[ResultEvent]) -> None:
        """`add_result` of each event in turn; only the newest `WINDOWS` are built."""
        if self.metered or not events:
            return
        self.method = "latency"
        tail = events[-WINDOWS:]
        ends = list(map(_TIME, tail))
        starts = [e.host_time - e.latency_us / 1e6 for e in tail]
        # What Window(start, end) builds (a named tuple's __new__ is tuple.__new__), without a
        # Python call per window.
        self.windows.extend(map(tuple.__new__, repeat(Window), zip(starts, ends, repeat(None))))

    def add_result(self, event: ResultEvent) -> None:
        if self.metered:
            return  # the meter's windows, with their energy
        self.method = "latency"
        self.windows.append(Window(event.host_time - event.latency_us / 1e6, event.host_time))

    def columns(self, width: int) -> list[Column]:
        """The newest `width` buckets, oldest first."""
        recent = list(self.buckets)[-width:] if width > 0 else []
        windows = [w for w in self.windows if recent and w.end > recent[0][0]]
        columns = []
        for start, end, lo, hi in recent:
            inside = tuple(w for w in windows if w.start < end and w.end > start)
            columns.append(Column(start, end, lo, hi, inside))
        return columns
