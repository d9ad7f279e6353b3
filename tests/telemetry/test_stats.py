"""LiveStats formulas on hand-made event sequences with known answers."""

import pytest

from fleet.telemetry.stats import LiveStats, percentile
from tests.support.events import power, result


def test_nearest_rank_percentiles():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7], 99) == 7
    assert percentile([], 50) is None


def test_rate_uses_device_time_and_inference_count():
    stats = LiveStats(window_s=5.0)
    # One result every 100 ms, but the board ran 4 inferences per result (throttled reporting).
    for i in range(30):
        stats.on_result(result(i * 100_000, 4 * i + 1))
    assert stats.inference_rate == pytest.approx(40.0)


def test_rate_window_drops_old_results():
    stats = LiveStats(window_s=1.0)
    for i in range(10):  # 10/s for a second
        stats.on_result(result(i * 100_000, i + 1))
    for i in range(1, 101):  # then 100/s for a second
        stats.on_result(result(900_000 + i * 10_000, 10 + i))
    assert stats.inference_rate == pytest.approx(100.0, rel=0.02)


def test_latency_percentiles_over_the_last_n():
    stats = LiveStats(latency_n=100)
    for i in range(100):
        stats.on_result(result(i * 1000, i + 1, latency=10_000))  # old and slow: pushed out
    for i in range(100):
        stats.on_result(result(200_000 + i * 1000, 101 + i, latency=(i + 1) * 10))
    assert stats.latency_p50_us == 500
    assert stats.latency_p99_us == 990


def test_energy_per_inference_is_energy_delta_over_count_delta():
    stats = LiveStats(window_s=10.0)
    # 50 inferences/s; the board draws 10 mW: 10 mW x 20 ms = 200 uJ per inference.
    for i in range(101):
        stats.on_result(result(i * 20_000, i + 1))
    for i in range(21):
        stats.on_power(power(i * 100_000, i * 1000, mw=10.0))
    assert stats.energy_per_inference_uj == pytest.approx(200.0)
    assert stats.power_mw == 10.0


def test_energy_needs_results_and_two_samples():
    stats = LiveStats()
    stats.on_power(power(0, 0))
    stats.on_power(power(100_000, 1000))
    assert stats.energy_per_inference_uj is None  # no results: nothing to divide by
    stats.on_result(result(150_000, 1))
    assert stats.energy_per_inference_uj is None  # no samples after the first result


def test_class_counts_for_classifiers_only():
    stats = LiveStats()
    stats.on_result(result(0, 1, values=(0.9, 0.1), label="idle"))
    stats.on_result(result(1, 2, values=(0.2, 0.8)))
    stats.on_result(result(2, 3, values=(0.5,)))  # a regression output: not a class
    assert dict(stats.class_counts) == {"idle": 1, "#1": 1}


def test_a_reset_restarts_the_windows():
    stats = LiveStats()
    for i in range(10):
        stats.on_result(result(1_000_000 + i * 10_000, 1000 + i))
    stats.on_result(result(5_000, 1))  # clock and count went back: the board rebooted
    assert stats.inference_rate is None
    stats.on_result(result(15_000, 2))
    assert stats.inference_rate == pytest.approx(100.0)
    assert stats.results == 12
