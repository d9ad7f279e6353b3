"""Benchmark figures: pure functions over one board's streamed events (see docs/bench.md).

Everything comes from the board's own data: INFER_RESULT (`device_time_us` when the
inference finished, `latency_us` its invoke time, `inference_count` since boot) and POWER
(`device_time_us`, `energy_uj` since boot). Nothing is taken from a board profile.

- latency: median, nearest-rank p90/p99, mean, min, max of `latency_us`.
- inferences/s = (N_last - N_first) / (t_last - t_first), device clock.
- duty cycle = busy time / elapsed time between the first and last result, busy being the
  `latency_us` of every inference after the first (back-to-back inference gives 1.0).
- count at time t, N(t): the inferences finished by t plus the fraction of the one in
  progress, which ran over [finish - latency_us, finish] of the next result. Exact when
  every inference is reported (back-to-back streams); linear between results when some
  are missing.
- energy per inference = (E(p_last) - E(p_first)) / (N(p_last) - N(p_first)) over the POWER
  samples inside the measured span; its spread is that of the same ratio over runs of
  consecutive POWER intervals that each span at least one inference. Average power = the same energy / the same device time.
- with a meter in the board's supply, energy per inference is the mean of the meter's
  per-inference figures (`energy` events) for the measured results, matched by
  `inference_count`; the spread is theirs. Average power = their energy / their windows.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from fleet.telemetry.events import EnergyEvent, PowerEvent, ResultEvent
from fleet.telemetry.stats import percentile


@dataclass(frozen=True, slots=True)
class LatencyFigures:
    """Invoke time statistics over n results, microseconds (device clock)."""

    n: int
    median_us: float
    p90_us: int
    p99_us: int
    mean_us: float
    min_us: int
    max_us: int


@dataclass(frozen=True, slots=True)
class EnergyFigures:
    """Energy and power over a window between two POWER samples."""

    per_inference_uj: float
    std_uj: float | None  # spread of the per-interval values (None with a single interval)
    min_uj: float
    max_uj: float
    intervals: int  # values the spread is over: runs of POWER intervals spanning >= 1 inference each
    resolution_uj: float  # bound of the error from the 1 µJ quantization of energy_uj
    power_mw: float
    window_us: int
    inferences: float  # N(p_last) - N(p_first)
    samples: int  # POWER samples in the window


def latency_figures(results: Sequence[ResultEvent]) -> LatencyFigures | None:
    """Latency statistics; None without results."""
    if not results:
        return None
    values = sorted(r.latency_us for r in results)
    return LatencyFigures(
        n=len(values), median_us=float(statistics.median(values)), p90_us=_pct(values, 90), p99_us=_pct(values, 99),
        mean_us=statistics.fmean(values), min_us=values[0], max_us=values[-1],
    )  # fmt: skip


def _pct(values: list[int], p: float) -> int:
    value = percentile(values, p)
    assert value is not None
    return value


def inference_rate(results: Sequence[ResultEvent]) -> float | None:
    """Inferences per second of device time between the first and last result."""
    if len(results) < 2:
        return None
    first, last = results[0], results[-1]
    elapsed = last.device_time_us - first.device_time_us
    return (last.inference_count - first.inference_count) / (elapsed / 1e6) if elapsed > 0 else None


def duty_cycle(results: Sequence[ResultEvent]) -> float | None:
    """Fraction of device time spent inferring between the first and last result.

    Counted inferences the stream did not report (count gaps) are charged the latency of
    the next reported one.
    """
    if len(results) < 2:
        return None
    elapsed = results[-1].device_time_us - results[0].device_time_us
    if elapsed <= 0:
        return None
    busy = sum((b.inference_count - a.inference_count) * b.latency_us for a, b in zip(results, results[1:]))
    return min(1.0, busy / elapsed)


def count_at(results: Sequence[ResultEvent], t_us: int) -> float | None:
    """N(t): inferences finished by device time t plus the finished fraction of the one running.

    Defined from the start of the first reported inference to the last result; None outside.
    """
    if not results:
        return None
    first = results[0]
    if t_us < first.device_time_us - first.latency_us or t_us > results[-1].device_time_us:
        return None
    # First result finishing at or after t (bisect on finish times without building a list).
    lo, hi = 0, len(results) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if results[mid].device_time_us < t_us:
            lo = mid + 1
        else:
            hi = mid
    nxt = results[lo]
    prev = results[lo - 1] if lo > 0 else None
    if prev is not None and nxt.inference_count - prev.inference_count != 1:
        # Results are missing in between: spread the unreported inferences evenly.
        span = nxt.device_time_us - prev.device_time_us
        frac = (t_us - prev.device_time_us) / span if span > 0 else 1.0
        return prev.inference_count + frac * (nxt.inference_count - prev.inference_count)
    start = nxt.device_time_us - nxt.latency_us
    frac = 1.0 if nxt.latency_us <= 0 else min(1.0, max(0.0, (t_us - start) / nxt.latency_us))
    return nxt.inference_count - 1 + frac


def energy_figures(results: Sequence[ResultEvent], powers: Sequence[PowerEvent]) -> EnergyFigures | None:
    """Energy per inference and average power from the POWER samples within the results' span.

    Needs two samples in the span and at least one inference between them; None otherwise.
    """
    points = [(p.device_time_us, p.energy_uj, count_at(results, p.device_time_us)) for p in powers]
    samples = [(t, e, n) for t, e, n in points if n is not None]
    if len(samples) < 2:
        return None
    (t0, e0, n0), (t1, e1, n1) = samples[0], samples[-1]
    inferences = n1 - n0
    if inferences <= 0 or t1 <= t0:
        return None
    per_interval = _chunk_values(samples)
    return EnergyFigures(
        per_inference_uj=(e1 - e0) / inferences,
        std_uj=statistics.stdev(per_interval) if len(per_interval) > 1 else None,
        min_uj=min(per_interval), max_uj=max(per_interval), intervals=len(per_interval),
        # energy_uj is floored to whole µJ at each end: the difference is off by less than 1 µJ.
        resolution_uj=1.0 / inferences,
        power_mw=(e1 - e0) / (t1 - t0) * 1000,  # µJ/µs = W
        window_us=t1 - t0, inferences=inferences, samples=len(samples),
    )  # fmt: skip


def _chunk_values(samples: list[tuple[int, int, float]]) -> list[float]:
    """Energy per inference over runs of consecutive POWER intervals covering at least one inference.

    An interval shorter than an inference holds a fraction of one (or only idle time): its
    ratio would say more about where the interval fell than about the inference, so
    intervals are merged until they span a whole inference's worth of count.
    """
    values = []
    _, e_start, n_start = samples[0]
    for _, e, n in samples[1:]:
        if n - n_start >= 1.0:
            values.append((e - e_start) / (n - n_start))
            e_start, n_start = e, n
    if not values:  # less than one inference in the whole window: one value for all of it
        (_, e0, n0), (_, e1, n1) = samples[0], samples[-1]
        values.append((e1 - e0) / (n1 - n0))
    return values



def meter_energy_figures(results: Sequence[ResultEvent], energies: Sequence[EnergyEvent]) -> EnergyFigures | None:
    """Energy per inference from a meter's per-inference figures for the measured results; None without any."""
    counts = {r.inference_count for r in results}
    chosen = [e for e in energies if e.inference_count in counts]
    if not chosen:
        return None
    values = [e.energy_uj for e in chosen]
    window_us = sum(e.duration_us for e in chosen)
    return EnergyFigures(
        per_inference_uj=statistics.fmean(values), std_uj=statistics.stdev(values) if len(values) > 1 else None,
        min_uj=min(values), max_uj=max(values), intervals=len(values), resolution_uj=0.0,
        power_mw=sum(e.energy_uj + e.baseline_uj for e in chosen) / window_us * 1000 if window_us > 0 else 0.0,
        window_us=round(window_us), inferences=float(len(chosen)), samples=len(chosen),
    )  # fmt: skip
