"""Figures from hand-built event lists: exact values, gaps, idle time, not enough data."""

from __future__ import annotations

import pytest

from fleet.bench.collector import BoardCollector
from fleet.bench.figures import count_at, duty_cycle, energy_figures, inference_rate, latency_figures
from fleet.telemetry.events import BootEvent
from tests.support.events import power, result


def back_to_back(n: int, latency: int, start: int = 1_000_000, first_count: int = 1):
    """n results of inferences run back to back: inference k finishes at start + k*latency."""
    return [result(start + k * latency, first_count + k, latency=latency) for k in range(n)]


def energy_at(t: int, *, start: int, idle_mw: float, active_mw: float, busy_from: int) -> int:
    """The sim's energy_uj at t: idle until `busy_from`, active after (floored to µJ)."""
    busy = max(0, t - busy_from)
    return int((idle_mw * (t - busy) + active_mw * busy) // 1000)


def test_latency_percentiles_are_nearest_rank():
    results = [result(1000 * i, i, latency=lat) for i, lat in enumerate(range(100, 200), start=1)]
    fig = latency_figures(results)
    assert fig is not None
    assert (fig.n, fig.median_us, fig.p90_us, fig.p99_us, fig.min_us, fig.max_us) == (100, 149.5, 189, 198, 100, 199)
    assert latency_figures([]) is None


def test_rate_and_duty_cycle_use_device_time_and_counts():
    results = back_to_back(11, 2000)
    assert inference_rate(results) == pytest.approx(500.0)
    assert duty_cycle(results) == pytest.approx(1.0)
    # One result every 10 ms, 2 ms of work each: 20 % busy, 100/s.
    spaced = [result(10_000 * k, k, latency=2000) for k in range(1, 12)]
    assert inference_rate(spaced) == pytest.approx(100.0)
    assert duty_cycle(spaced) == pytest.approx(0.2)
    # Unreported inferences still count (the board's count says so).
    gaps = [result(10_000, 1, latency=1000), result(30_000, 3, latency=1000)]
    assert inference_rate(gaps) == pytest.approx(100.0)
    assert inference_rate(results[:1]) is None and duty_cycle(results[:1]) is None


def test_count_at_includes_the_fraction_of_the_running_inference():
    results = back_to_back(3, 1000, start=10_000)  # inferences 1..3 finish at 10, 11, 12 ms
    assert count_at(results, 9_000) == 0.0  # inference 1 starts
    assert count_at(results, 9_250) == pytest.approx(0.25)
    assert count_at(results, 11_500) == pytest.approx(2.5)  # 1 and 2 done, 3 half-way
    assert count_at(results, 12_000) == 3.0
    assert count_at(results, 8_999) is None and count_at(results, 12_001) is None
    # Idle before each inference: nothing counted until the inference starts.
    spaced = [result(10_000, 1, latency=1000), result(20_000, 2, latency=1000)]
    assert count_at(spaced, 15_000) == 1.0 and count_at(spaced, 19_500) == pytest.approx(1.5)
    # A missing result in between: the count is spread linearly.
    assert count_at([result(10_000, 1), result(20_000, 3)], 15_000) == pytest.approx(2.0)


def test_energy_per_inference_back_to_back_is_active_power_times_latency():
    latency, active = 2050, 40.0
    start = 1_000_000
    results = back_to_back(60, latency, start=start)
    powers = [power(t, energy_at(t, start=0, idle_mw=5.0, active_mw=active, busy_from=0))
              for t in range(start, start + 60 * latency, 10_000)]  # fmt: skip
    fig = energy_figures(results, powers)
    assert fig is not None
    assert abs(fig.per_inference_uj - active * latency / 1000) <= fig.resolution_uj
    assert abs(fig.power_mw - active) <= 1000 / fig.window_us
    assert fig.intervals == len(powers) - 1
    assert fig.min_uj <= fig.per_inference_uj <= fig.max_uj and fig.std_uj is not None


def test_energy_per_inference_with_idle_time_includes_the_idle_share():
    # One 1 ms inference every 10 ms at 30 mW active, 3 mW idle: 30*1 + 3*9 = 57 µJ each.
    results = [result(10_000 * k, k, latency=1000) for k in range(1, 102)]
    busy = [(10_000 * k - 1000, 10_000 * k) for k in range(1, 102)]

    def energy(t: int) -> int:
        b = sum(max(0, min(t, e) - s) for s, e in busy)
        return int((3.0 * (t - b) + 30.0 * b) // 1000)

    powers = [power(t, energy(t)) for t in range(9_500, 1_010_000, 25_000)]
    fig = energy_figures(results, powers)
    assert fig is not None
    assert fig.per_inference_uj == pytest.approx(57.0, abs=fig.resolution_uj + 0.3)  # ends fall mid-interval
    assert fig.power_mw == pytest.approx(5.7, rel=0.02)
    # Sampled every 2 ms, most intervals hold no inference (only idle time) or part of one:
    # the spread is over runs of intervals spanning a whole inference, not over those slivers.
    fast = energy_figures(results, [power(t, energy(t)) for t in range(9_000, 1_010_000, 2_000)])
    assert fast is not None and fast.intervals <= 101
    assert 27 < fast.min_uj <= fast.per_inference_uj <= fast.max_uj < 2 * 57


def test_energy_needs_two_samples_inside_the_results():
    results = back_to_back(5, 1000, start=100_000)
    assert energy_figures(results, [power(100_000, 10)]) is None
    assert energy_figures(results, [power(1, 0), power(500_000, 10)]) is None  # both outside


def test_collector_skips_warmup_and_starts_over_after_a_reset():
    c = BoardCollector("b", "01", "00000000", inferences=3, warmup=2, min_power_samples=2)
    c.feed(result(1000, 1))
    assert c.phase == "deploying" and not c.results  # not armed yet: events before the deploy are ignored
    c.arm()
    for k, t in enumerate((1000, 2000, 3000, 4000), start=1):
        c.feed(result(t, k))
    assert c.phase == "measuring" and [r.inference_count for r in c.results] == [3, 4]
    c.feed(BootEvent(board="b", uid="01", host_time=0.0, reason=2, boot_count=2))
    assert c.restarts == 1 and not c.results and c.phase == "warmup"
    for k in range(1, 6):
        c.feed(result(1000 * k, k))
        c.feed(power(1000 * k + 10, k))
    assert c.phase == "done" and len(c.results) == 3
    other = result(9000, 9).model_copy(update={"model": "ffffffff"})
    c.feed(other)
    assert len(c.results) == 3  # done: nothing more is taken


def test_collector_fails_after_too_many_resets():
    c = BoardCollector("b", "01", "00000000", inferences=3, warmup=0)
    c.arm()
    for _ in range(4):
        c.feed(BootEvent(board="b", uid="01", host_time=0.0, reason=2, boot_count=2))
    assert c.phase == "failed" and "4 times" in (c.reason or "")
