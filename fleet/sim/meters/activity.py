"""A board's activity as an external meter sees it: supply current and a marker line.

`Activity` holds the spans of time a board was busy inferring (clock microseconds) and
its power model, and renders any stretch of time as meter samples: for sample k, covering
[t0 + k*dt, t0 + (k+1)*dt), the current is the power model's average over the sample
(idle and active power weighted by the busy fraction) divided by the supply voltage, and
the marker is high when the board is busy at the sample's start (a GPIO the firmware
raises for the duration of each inference, sampled as a meter's digital input is).
Between back-to-back inferences the modelled firmware holds the marker low for
`MARKER_LOW_US` (one PPK2 sample), or a meter sampling it could not tell them apart: the
next inference's pulse starts that much after the inference does.

Spans come from a virtual board's engine (`attach`) or are given by hand (tests play a
known waveform). A meter renders only time the board has decided (`known_until`): on the
real clock a board's tick can come late, and what follows an inference whose end is past
but not yet accounted (the next inference, back to back, or idle time) is known only then. Vectorised with numpy: a meter at 100 kS/s renders 100,000 samples a
second per board.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fleet.sim.power import PowerModel

MARKER_LOW_US = 10.0


@dataclass(frozen=True, slots=True)
class Samples:
    """Meter samples: current in amperes and the marker line, one entry per sample."""

    t0_us: float  # start of the first sample, clock microseconds
    period_us: float
    current_a: np.ndarray
    marker: np.ndarray  # bool


class Activity:
    """Busy spans of one board and its power model; see the module doc."""

    def __init__(self, model: PowerModel, in_progress: Callable[[], tuple[int, int] | None] | None = None) -> None:
        self.model = model
        # (start, scheduled end) of the busy span in progress, not reported yet
        self._in_progress = in_progress or (lambda: None)
        # How long a board may leave an inference's end unaccounted; past that it skips ahead,
        # idle until its late tick (BoardEngine's max_lag_us). None: it never skips.
        self._max_lag_us: int | None = None
        self._starts: list[int] = []
        self._ends: list[int] = []

    def attach(self, engine) -> None:  # noqa: ANN001 - fleet.sim.engine.BoardEngine (sim imports stay lazy)
        """Follow a virtual board: its accounted busy spans and the inference in progress."""
        engine.busy_listener = self.add_span

        def in_progress() -> tuple[int, int] | None:
            start, model = engine.inference_started_us, engine.model
            return None if start is None or model is None else (start, start + model.latency_us)

        self._in_progress = in_progress
        self._max_lag_us = engine.config.max_lag_us

    def add_span(self, start_us: int, end_us: int) -> None:
        """The board was busy over [start_us, end_us) (spans arrive in time order)."""
        if end_us <= start_us:
            return
        if self._ends and start_us < self._ends[-1]:
            start_us = self._ends[-1]  # never count time twice
            if end_us <= start_us:
                return
        self._starts.append(start_us)
        self._ends.append(end_us)

    def known_until(self, now_us: int) -> int:
        """Clock time up to which the board's activity is decided: `now_us`, or the scheduled
        end of the inference in progress when that is past (the board has yet to account it),
        unless the board skips ahead by now."""
        running = self._in_progress()
        if running is None or now_us <= running[1]:
            return now_us
        if self._max_lag_us is not None and now_us - running[1] > self._max_lag_us:
            return now_us  # its tick will cut the inference there and idle until then
        return running[1]

    def forget_before(self, t_us: float) -> None:
        """Drop spans that ended before t_us (already rendered)."""
        keep = 0
        while keep < len(self._ends) and self._ends[keep] <= t_us:
            keep += 1
        if keep:
            del self._starts[:keep], self._ends[:keep]

    def _spans(self, now_us: int) -> tuple[np.ndarray, np.ndarray]:
        """Known spans plus the one in progress (up to now), as float arrays of starts and ends."""
        starts, ends = list(self._starts), list(self._ends)
        running = self._in_progress()
        if running is not None and running[0] < now_us and (not ends or running[0] >= ends[-1]):
            starts.append(running[0])
            ends.append(min(now_us, running[1]))  # past its scheduled end: the next one is not known yet
        return np.asarray(starts, dtype=np.float64), np.asarray(ends, dtype=np.float64)

    def render(self, t0_us: float, count: int, period_us: float, voltage_mv: float, now_us: int) -> Samples:
        """`count` samples from t0_us, every period_us, at a supply of voltage_mv (nothing after now_us is known)."""
        edges = t0_us + period_us * np.arange(count + 1, dtype=np.float64)
        s, e = self._spans(now_us)
        if len(s) == 0:
            frac = np.zeros(count)
            marker = np.zeros(count, dtype=bool)
        else:
            before = np.concatenate(([0.0], np.cumsum(e - s)))
            i = np.searchsorted(s, edges, side="right") - 1
            j = np.maximum(i, 0)
            busy = np.where(i >= 0, before[j] + np.clip(edges - s[j], 0.0, (e - s)[j]), 0.0)
            frac = np.diff(busy) / period_us
            rise = np.maximum(s, np.concatenate(([-np.inf], e[:-1] + MARKER_LOW_US)))
            starts = edges[:-1]
            k = np.searchsorted(rise, starts, side="right") - 1
            marker = (k >= 0) & (starts < e[np.maximum(k, 0)])
        power_mw = self.model.idle_mw + (self.model.active_mw - self.model.idle_mw) * frac
        return Samples(t0_us, period_us, power_mw / voltage_mv, marker)  # mW / mV = A
