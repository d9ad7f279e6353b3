"""Locking a meter's clock to a board's from the meter's edge timestamps: sans-I/O.

EnergyRunner wires the board's timestamp GPIO (fleet's marker line: high during each
inference) to the LPM01A's D7 and sets `eventsrc d7 fal`: the meter then reports each
falling edge, the end of an inference, as a `TimeStamp: <ms>ms` line, milliseconds since
the acquisition started. The board reports the same instant as its INFER_RESULT's
`device_time_us`. `EdgeClock` pairs edges with results and gives the offset between the
two clocks, so a result's window is placed on the meter's samples by the board's own
timestamps instead of through the host's clock mapping.

Pairing: the first result takes the edge nearest where the host expects it (the host's
mapping of its time onto the meter's clock, within `coarse_tolerance_us`); once locked,
each result takes the edge within `lock_tolerance_us` of `device_time_us + offset`. An
edge no result claims, or a result whose edge never comes, is counted, never guessed.

Bounds: an edge reported as `e` ms fell in (e·1000 − sample_us, e·1000 + 1000) µs of meter
time (the meter floors to the millisecond the first sample that saw the line low, which
starts up to one sample after the edge). Each pair bounds the offset (meter − board) to
that interval shifted by −device_time_us; the offset is the middle of the intersection of
the last `window` pairs, and `error_us` half its width. Edges at different sub-millisecond
phases narrow it towards the sample period; a width that turns negative (the clocks drift
apart) restarts the intersection from the newest pair.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(slots=True)
class EdgeClock:
    """Board time -> meter time from edge timestamps; see the module doc."""

    sample_us: float  # the meter's sample period
    resolution_us: float = 1000.0  # of the edge timestamps
    coarse_tolerance_us: float = 20_000.0
    lock_tolerance_us: float = 2_000.0
    window: int = 64
    unmatched_edges: int = 0
    unmatched_results: int = 0
    _edges: deque[float] = field(default_factory=deque)  # meter µs, as reported (floored)
    _results: deque[tuple[int, float]] = field(default_factory=deque)  # (device_time_us, host estimate on the meter)
    _pairs: deque[float] = field(default_factory=deque)  # edge − device_time_us of each pair
    _lower: float | None = None
    _upper: float | None = None

    @property
    def locked(self) -> bool:
        return self._lower is not None

    @property
    def offset_us(self) -> float | None:
        """Meter time − board time, or None before the first pair."""
        if self._lower is None or self._upper is None:
            return None
        return (self._lower + self._upper) / 2

    @property
    def error_us(self) -> float | None:
        """How far `offset_us` can be from the truth (half the bounds' width)."""
        if self._lower is None or self._upper is None:
            return None
        return (self._upper - self._lower) / 2

    def to_meter(self, device_time_us: float) -> float | None:
        """The meter's time of a board instant, once locked."""
        offset = self.offset_us
        return None if offset is None else device_time_us + offset

    def add_edge(self, meter_us: float) -> None:
        self._edges.append(meter_us)
        self._pair()

    def add_result(self, device_time_us: int, host_estimate_us: float) -> None:
        """A result's board time and the host's estimate of it on the meter's clock."""
        self._results.append((device_time_us, host_estimate_us))
        self._pair()

    def _pair(self) -> None:
        while self._results and self._edges:
            device, estimate = self._results[0]
            offset = self.offset_us
            expected = device + offset if offset is not None else estimate
            tolerance = self.lock_tolerance_us if offset is not None else self.coarse_tolerance_us
            middle = self.resolution_us / 2  # an edge reported as e ms fell around e ms + half a ms
            near = [e for e in self._edges if abs(e + middle - expected) <= tolerance]
            if not near:
                if self._edges[-1] + middle > expected + tolerance:
                    self._results.popleft()  # its edge would have come by now
                    self.unmatched_results += 1
                    continue
                return  # its edge may still come
            edge = min(near, key=lambda e: abs(e + middle - expected))
            while self._edges[0] != edge:
                self._edges.popleft()
                self.unmatched_edges += 1
            self._edges.popleft()
            self._results.popleft()
            self._bound(edge - device)
        while len(self._edges) > self.window:  # no result for these: the board is not streaming
            self._edges.popleft()
            self.unmatched_edges += 1

    def _bound(self, diff: float) -> None:
        self._pairs.append(diff)
        if len(self._pairs) > self.window:
            self._pairs.popleft()
        lower, upper = diff - self.sample_us, diff + self.resolution_us
        if self._lower is not None and self._upper is not None:
            lower, upper = max(lower, self._lower), min(upper, self._upper)
        if lower > upper or len(self._pairs) == self.window:
            # Drift (or a window's worth of pairs): start again from the pairs kept.
            lower = max(d - self.sample_us for d in self._pairs)
            upper = min(d + self.resolution_us for d in self._pairs)
            if lower > upper:
                self._pairs = deque([diff])
                lower, upper = diff - self.sample_us, diff + self.resolution_us
        self._lower, self._upper = lower, upper
