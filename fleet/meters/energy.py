"""Energy per inference from a meter's samples, the MLPerf Tiny way: sans-I/O.

A meter delivers samples of supply current (and, with a marker line wired, a digital
input high during each inference). `EnergyReducer` turns them into one figure per
inference, matched to the board's INFER_RESULTs:

    E = sum over samples in the window of V * I * dt      (µJ: W x µs)

Windows, by method:

- `marker`: the window is a marker pulse, from the start of the first sample that saw the
  line high to the start of the first that saw it low again (sample-exact: at 100 kS/s,
  edges land within 10 µs). Pulses are matched to results in order: the first result is
  paired with one of the pulses ending within `coarse_tolerance_us` of where the host
  expects it (the result's host time mapped onto the meter's clock): the one whose offset
  pairs the most of the results queued behind it, then the nearest (inferences back to
  back put many pulses within the host's error; when they come evenly spaced, a neighbour
  measures the same, and when in bursts, only the true offset lines them all up). That
  locks the offset between the board's clock and the meter's; every later result is paired with the pulse ending
  within `lock_tolerance_us` of `device_time_us + offset`, and the offset follows each match
  (so crystal drift is tracked); a quarter of the latest `RELOCK_WINDOW` results pairing
  with nothing undoes the lock (a host estimate further off than the tolerance locked a
  wrong pulse), and the next result locks again. Only a pulse as long as the result's
  latency is its candidate (within `duration_tolerance` of it, or 3 sample periods: the
  edges are sample-exact, and the board times the same invoke the marker wraps): a longer or shorter
  pulse wraps something else (two inferences whose low time the meter missed, one cut
  short). A pulse no result claims, or a result no pulse ends near, is counted
  (`unmatched_pulses`, `unmatched_results`), never guessed.
- `timestamp` (no marker line): the window is the result's own [finish - latency_us,
  finish], its host time mapped onto the meter's clock. Its error is the misalignment of
  the two clocks, ε: each edge of the window is off by up to ε, so
  |ΔE| <= ε * (P_active - P_idle) per inference (docs/power.md gives ε's parts). When ε
  is known (`ResultMark.search_us`: an LPM01A's clock locked by its edge timestamps), the
  window is then moved, by at most ε, to where it holds the most energy
  (`EnergyTimeline.heaviest`): onto the inference's own current pulse, found in the samples.

Baseline: with `baseline=True` the idle power times the window's duration is subtracted,
the idle power being the mean power over the latest gap between windows (one sample
trimmed at each side, at least `min_gap_samples` left), or `idle_mw` when given.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Method = Literal["marker", "timestamp"]
LOCK_RESULTS = 32  # results weighed when the marker method locks the two clocks
RELOCK_WINDOW = 16  # a quarter of these latest results without a pulse make it lock again
DURATION_PERIODS = 3  # a marker pulse this many samples off the latency is its length, however short


@dataclass(frozen=True, slots=True)
class ResultMark:
    """What the reducer needs of an INFER_RESULT."""

    inference_count: int
    device_time_us: int  # when the inference finished, board clock
    latency_us: int
    meter_end_us: float  # the same instant on the meter's clock, as the host estimates it
    search_us: float = 0.0  # timestamp method: how far off meter_end_us may be (a locked clock's ε); 0: unknown


@dataclass(frozen=True, slots=True)
class InferenceEnergy:
    """One inference's measured energy."""

    inference_count: int
    device_time_us: int
    start_us: float  # meter clock
    end_us: float
    energy_uj: float  # baseline already subtracted when baseline is on
    baseline_uj: float
    method: Method

    @property
    def duration_us(self) -> float:
        return self.end_us - self.start_us

    @property
    def power_mw(self) -> float:
        """Average power over the window (baseline included): µJ / µs = W."""
        return (self.energy_uj + self.baseline_uj) / self.duration_us * 1000 if self.duration_us > 0 else 0.0


@dataclass(slots=True)
class _Chunk:
    t0_us: float
    period_us: float
    base_uj: float  # cumulative energy at t0_us
    uj_per_sample_a: float  # a sample of 1 A: volts x period (µJ)
    cum_a: np.ndarray  # cumulative current (A) at each sample boundary (len = samples + 1, from 0)

    @property
    def end_us(self) -> float:
        return self.t0_us + self.period_us * (len(self.cum_a) - 1)

    def energy_at(self, t_us: float) -> float:
        """Linear between sample boundaries (a sample's current is constant over it)."""
        x = min(max((t_us - self.t0_us) / self.period_us, 0.0), len(self.cum_a) - 1.0)
        i = min(int(x), len(self.cum_a) - 2)
        a, b = float(self.cum_a[i]), float(self.cum_a[i + 1])
        return self.base_uj + self.uj_per_sample_a * (a + (b - a) * (x - i))


class EnergyTimeline:
    """Cumulative energy over the last `history_us` of samples; energy between any two instants
    in it that no lost samples lie between (a gap between two runs of samples holds energy
    nobody measured)."""

    def __init__(self, history_us: float = 5e6) -> None:
        self.history_us = history_us
        self.total_uj = 0.0
        self._chunks: deque[_Chunk] = deque()
        self._starts: deque[float] = deque()

    @property
    def end_us(self) -> float | None:
        return self._chunks[-1].end_us if self._chunks else None

    @property
    def period_us(self) -> float | None:
        return self._chunks[-1].period_us if self._chunks else None

    def add(self, t0_us: float, period_us: float, current_a: np.ndarray, volts: float) -> None:
        """Append samples (A each, over period_us, at `volts`)."""
        if not len(current_a):
            return
        cum = np.empty(len(current_a) + 1)
        cum[0] = 0.0
        np.cumsum(current_a, out=cum[1:])
        chunk = _Chunk(t0_us, period_us, self.total_uj, volts * period_us, cum)
        self.total_uj += chunk.uj_per_sample_a * float(cum[-1])
        self._chunks.append(chunk)
        self._starts.append(t0_us)
        while len(self._chunks) > 1 and self._chunks[1].t0_us < t0_us - self.history_us:
            self._chunks.popleft()
            self._starts.popleft()

    def energy_at(self, t_us: float) -> float | None:
        """Cumulative energy at t_us; None outside the samples held."""
        if not self._chunks or t_us < self._chunks[0].t0_us or t_us > self._chunks[-1].end_us:
            return None
        i = max(0, bisect.bisect_right(self._starts, t_us) - 1)
        return self._chunks[i].energy_at(t_us)

    def energy(self, start_us: float, end_us: float) -> float | None:
        """Energy from start_us to end_us; None outside the samples held or across lost ones."""
        a, b = self.energy_at(start_us), self.energy_at(end_us)
        return None if a is None or b is None or not self._unbroken(start_us, end_us) else b - a

    def _unbroken(self, start_us: float, end_us: float) -> bool:
        """Whether samples cover [start_us, end_us] without a gap (both held)."""
        chunks = self._chunks

        def gap_after(k: int) -> bool:  # lost samples between chunk k and the next (not float rounding)
            return k + 1 < len(chunks) and chunks[k + 1].t0_us - chunks[k].end_us > chunks[k].period_us / 2

        i = max(0, bisect.bisect_right(self._starts, start_us) - 1)
        j = max(0, bisect.bisect_right(self._starts, end_us) - 1)
        if end_us > chunks[j].end_us and gap_after(j):  # the window ends in a gap (or starts and ends in one)
            return False
        return not any(gap_after(k) for k in range(i, j))

    def heaviest(self, start_us: float, end_us: float, radius_us: float) -> tuple[float, float]:
        """The window as long as [start_us, end_us], moved by at most radius_us, that holds the
        most energy (of equals, the least moved); the window as given when none is held.

        With each sample's current spread evenly over it, a window's energy is linear in the
        shift between the shifts that put one of its edges on a sample boundary: the most is
        at one of those, or at ±radius_us.
        """
        period = self.period_us
        if not period or radius_us <= 0 or not self._chunks:
            return start_us, end_us
        t0 = self._chunks[-1].t0_us  # the sample grid (lost samples aside)
        shifts = {0.0, -radius_us, radius_us}
        for edge in (start_us, end_us):
            first = math.ceil((edge - radius_us - t0) / period)
            last = math.floor((edge + radius_us - t0) / period)
            shifts.update(t0 + k * period - edge for k in range(first, last + 1))
        held = {shift: e for shift in shifts if (e := self.energy(start_us + shift, end_us + shift)) is not None}
        if not held:
            return start_us, end_us
        most = max(held.values())
        # Equal energies (a flat top: the window longer than the pulse) differ by rounding only.
        shift = min((s for s, e in held.items() if e >= most - 1e-9 * abs(most)), key=lambda s: (abs(s), s))
        return start_us + shift, end_us + shift


@dataclass(slots=True)
class _Pulse:
    start_us: float
    end_us: float


@dataclass(slots=True)
class EnergyReducer:
    """Samples and results in, `InferenceEnergy` out; see the module doc."""

    method: Method
    baseline: bool = False
    idle_mw: float | None = None  # a known idle power for the baseline (else measured in gaps)
    coarse_tolerance_us: float = 20_000.0
    lock_tolerance_us: float = 500.0
    duration_tolerance: float = 0.02  # of the latency: how far a marker pulse's length may be off it
    min_gap_samples: int = 3
    timeline: EnergyTimeline = field(default_factory=EnergyTimeline)
    unmatched_pulses: int = 0
    unmatched_results: int = 0
    offset_us: float | None = None  # meter clock - board clock, once locked (marker method)
    _level: bool = False
    _rise_us: float | None = None
    _pulses: deque[_Pulse] = field(default_factory=deque)
    _results: deque[ResultMark] = field(default_factory=deque)
    _last_end_us: float | None = None
    _gap_mw: float | None = None
    _recent: deque[bool] = field(default_factory=lambda: deque(maxlen=RELOCK_WINDOW))  # latest results paired?
    # the latest pulses taken off `_pulses` (and whether as unpaired), given back when a lock is undone
    _taken: deque[tuple[_Pulse, bool]] = field(default_factory=lambda: deque(maxlen=2 * RELOCK_WINDOW))

    def feed_samples(self, t0_us: float, period_us: float, current_a: np.ndarray, volts: float,
                     marker: np.ndarray | None = None) -> list[InferenceEnergy]:  # fmt: skip
        """Samples from t0_us (meter clock), each period_us long; returns the inferences now complete."""
        self.timeline.add(t0_us, period_us, current_a, volts)
        if self.method == "marker" and marker is not None and len(marker):
            self._edges(t0_us, period_us, marker)
        return self._reduce()

    def feed_result(self, mark: ResultMark) -> list[InferenceEnergy]:
        """A result of the board; returns the inferences now complete."""
        self._results.append(mark)
        return self._reduce()

    def _edges(self, t0_us: float, period_us: float, marker: np.ndarray) -> None:
        changes = np.flatnonzero(marker[1:] != marker[:-1]) + 1
        if bool(marker[0]) != self._level:
            changes = np.concatenate(([0], changes))
        for i in changes.tolist():
            t = t0_us + i * period_us
            if marker[i]:
                self._rise_us = t
            elif self._rise_us is not None:
                self._pulses.append(_Pulse(self._rise_us, t))
                self._rise_us = None
        self._level = bool(marker[-1])

    # --- matching --------------------------------------------------------------------

    def _reduce(self) -> list[InferenceEnergy]:
        out = []
        while self._results:
            done = self._match_next() if self.method == "marker" else self._window_next()
            if done is None:
                break
            if done is not False:
                out.append(done)
        return out

    def _window_next(self) -> InferenceEnergy | None | bool:
        mark = self._results[0]
        end = self.timeline.end_us
        if end is None or end < mark.meter_end_us + mark.search_us:
            return None  # its samples (and those it may move onto) have not all arrived
        self._results.popleft()
        start, stop = mark.meter_end_us - mark.latency_us, mark.meter_end_us
        if mark.search_us > 0:
            start, stop = self.timeline.heaviest(start, stop, mark.search_us)
        return self._measure(mark, start, stop, "timestamp")

    def _match_next(self) -> InferenceEnergy | None | bool:
        mark = self._results[0]
        locked = self.offset_us is not None
        expected = mark.device_time_us + self.offset_us if locked else mark.meter_end_us
        tolerance = self.lock_tolerance_us if locked else self.coarse_tolerance_us
        end = self.timeline.end_us
        # A pulse may still end within the tolerance; to lock, the results in the tolerance's
        # span behind it must have their pulses too, whichever candidate is the true one.
        if end is None or end < expected + (tolerance if locked else 2 * tolerance):
            return None
        slack = max(DURATION_PERIODS * (self.timeline.period_us or 0.0), self.duration_tolerance * mark.latency_us)
        candidates = [p for p in self._pulses if abs(p.end_us - expected) <= tolerance
                      and abs(p.end_us - p.start_us - mark.latency_us) <= slack]  # fmt: skip
        if not candidates:
            self._results.popleft()
            self.unmatched_results += 1
            self._paired_recently(False)
            return False
        if locked:
            self._paired_recently(True)
        pulse = min(candidates, key=lambda p: abs(p.end_us - expected)) if locked else self._lock_pulse(candidates)
        self._results.popleft()
        while self._pulses[0] is not pulse:  # pulses before it belong to no result
            self._taken.append((self._pulses.popleft(), True))
            self.unmatched_pulses += 1
        self._taken.append((self._pulses.popleft(), False))
        self.offset_us = pulse.end_us - mark.device_time_us
        return self._measure(mark, pulse.start_us, pulse.end_us, "marker")

    def _paired_recently(self, paired: bool) -> None:
        """Undo the lock when too many of the latest results paired with no pulse: a host
        estimate further off than the coarse tolerance locked a wrong pulse."""
        if self.offset_us is None:
            return
        self._recent.append(paired)
        if len(self._recent) == RELOCK_WINDOW and self._recent.count(False) >= RELOCK_WINDOW // 4:
            self.offset_us = None
            self._recent.clear()
            # The wrong lock took the pulses of the results that follow: offer them again.
            self._pulses.extendleft(p for p, _ in reversed(self._taken))
            self.unmatched_pulses -= sum(unpaired for _, unpaired in self._taken)
            self._taken.clear()

    def _lock_pulse(self, candidates: list[_Pulse]) -> _Pulse:
        """The first result's pulse: the candidate whose offset puts a pulse end closest (within
        a quarter of the lock's tolerance) to the most of the results queued behind it (then
        the nearest to the host's estimate). Inferences
        back to back, in bursts as a loaded host ticks them, put many pulses within the
        host's error; only the true offset lines up the whole sequence."""
        first = self._results[0]
        ends = [p.end_us for p in self._pulses]
        # Every candidate is judged on the same results: those whose pulse has arrived by now
        # whichever candidate is the true one.
        reach = (self.timeline.end_us or 0.0) - self.lock_tolerance_us - max(p.end_us for p in candidates)
        later = [d for m in itertools.islice(self._results, 1, LOCK_RESULTS)
                 if (d := m.device_time_us - first.device_time_us) <= reach]  # fmt: skip

        # Closer than the lock's tolerance, which admits a neighbour of inferences back to back.
        close = self.lock_tolerance_us / 4

        def score(pulse: _Pulse) -> tuple[int, float]:
            paired = 0
            for delta in later:
                t = pulse.end_us + delta
                i = bisect.bisect_left(ends, t)
                paired += any(abs(ends[j] - t) <= close for j in (i - 1, i) if 0 <= j < len(ends))
            return -paired, abs(pulse.end_us - first.meter_end_us)

        return min(candidates, key=score)

    def _measure(self, mark: ResultMark, start: float, end: float, method: Method) -> InferenceEnergy | bool:
        energy = self.timeline.energy(start, end)
        if energy is None:
            self.unmatched_results += 1  # its samples are gone (older than the history), or some were lost
            return False
        self._note_gap(start)
        self._last_end_us = end
        idle = self.idle_mw if self.idle_mw is not None else self._gap_mw
        baseline = idle * (end - start) / 1000 if self.baseline and idle is not None else 0.0
        return InferenceEnergy(mark.inference_count, mark.device_time_us, start, end, energy - baseline, baseline,
                               method)  # fmt: skip

    def _note_gap(self, start: float) -> None:
        """Idle power from the gap since the previous window, when it is long enough."""
        if self._last_end_us is None:
            return
        period = self.timeline.period_us or 0.0
        a, b = self._last_end_us + period, start - period  # trim the edge samples
        if period <= 0 or (b - a) < self.min_gap_samples * period:
            return
        energy = self.timeline.energy(a, b)
        if energy is not None:
            self._gap_mw = energy / (b - a) * 1000
