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


def _stream(seed: int) -> list:
    """Results and power samples of a board that resets twice, with a meter's samples among them."""
    import random

    rng = random.Random(seed)
    events, t, count, energy = [], 0, 0, 0
    for i in range(600):
        if i in (200, 410):  # the board rebooted: its clock and counts start again
            t, count, energy = rng.randrange(1000), 0, 0
        t += rng.randrange(1, 40_000)
        roll = rng.random()
        if roll < 0.6:
            count += rng.randrange(1, 3)
            values = (0.5,) if rng.random() < 0.1 else (rng.random(), rng.random())
            events.append(result(t, count, latency=rng.randrange(100, 5000), values=values,
                                 label=rng.choice([None, "yes", "no"])))  # fmt: skip
        elif roll < 0.95:
            energy += rng.randrange(0, 500)
            events.append(power(t, energy, mw=rng.random() * 20))
        else:
            events.append(power(rng.randrange(10**6), 1, mw=1.0).model_copy(update={"source": "meter:ppk2 ABC"}))
    return events


def _figures(stats: LiveStats) -> tuple:
    return (stats.results, stats.power_samples, stats.last_result, stats.last_power, stats.last_meter_power,
            dict(stats.class_counts), list(stats._counts), list(stats._latencies), list(stats._energy),
            stats.inference_rate, stats.latency_p50_us, stats.latency_p99_us, stats.board_energy_per_inference_uj)  # fmt: skip


def _windows(events: list, window_us: int, latency_n: int) -> tuple[list, list, list]:
    """The windows the module doc defines, from scratch: the samples since the last reset
    (time or count going back), cut to the last window (keeping one at or before its
    start), and the last `latency_n` latencies."""
    counts, energy, latencies = [], [], []
    for e in events:
        if e.kind == "result":
            if counts and (e.device_time_us < counts[-1][0] or e.inference_count < counts[-1][1]):
                counts, energy, latencies = [], [], []
            counts.append((e.device_time_us, e.inference_count))
            latencies.append(e.latency_us)
        elif not e.source.startswith("meter:"):
            if energy and (e.device_time_us < energy[-1][0] or e.energy_uj < energy[-1][1]):
                counts, energy, latencies = [], [], []
            energy.append((e.device_time_us, e.energy_uj))

    def cut(window: list) -> list:
        if not window:
            return window
        at_or_before = sum(t <= window[-1][0] - window_us for t, _ in window)
        return window[max(0, min(at_or_before - 1, len(window) - 2)) :]

    return cut(counts), cut(energy), latencies[-latency_n:]


@pytest.mark.parametrize("seed", range(5))
def test_a_read_folded_at_once_equals_its_events_one_by_one(seed):
    import random

    events = _stream(seed)
    one_by_one, batched = LiveStats(window_s=1.0, latency_n=50), LiveStats(window_s=1.0, latency_n=50)
    sizes = random.Random(seed + 100)
    i = 0
    while i < len(events):
        n = sizes.choice([1, 2, 3, 7, 40])
        for event in events[i : i + n]:
            (one_by_one.on_result if event.kind == "result" else one_by_one.on_power)(event)
        batched.on_stream(events[i : i + n])
        i += n
        assert _figures(batched) == _figures(one_by_one), f"after event {i}"
        windows = (list(batched._counts), list(batched._energy), list(batched._latencies))
        assert windows == _windows(events[:i], 1_000_000, 50), f"after event {i}"
    assert one_by_one.results > 300 and len(one_by_one._counts) < 100  # the windows were trimmed
