"""The live trace's min/max decimation (fleet.meters.trace) against a per-sample reference,
however the samples are cut into chunks."""

from __future__ import annotations

import math

from tests.support.sim import require_numpy

require_numpy()

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fleet.meters.trace import TraceDecimator  # noqa: E402


def reference(times_us: list[float], current_a: np.ndarray, bucket_us: float, first: int, last: int):
    """Min and max µA per bucket first..last, sample by sample (None where no sample fell)."""
    lows: list[float | None] = [None] * (last - first + 1)
    highs: list[float | None] = [None] * (last - first + 1)
    for t, a in zip(times_us, current_a.tolist(), strict=True):
        i = math.floor(t / bucket_us) - first
        if 0 <= i < len(lows):
            lows[i] = a * 1e6 if lows[i] is None else min(lows[i], a * 1e6)
            highs[i] = a * 1e6 if highs[i] is None else max(highs[i], a * 1e6)
    return [None if v is None else round(v, 1) for v in lows], [None if v is None else round(v, 1) for v in highs]


def decimated(chunks, bucket_us: float, take_every: int):
    """Every bucket taken from a decimator fed these (t0, period, current) chunks, taking now and then."""
    decimator = TraceDecimator(bucket_us)
    start, lows, highs = None, [], []
    for n, (t0, period, current) in enumerate(chunks, 1):
        decimator.feed(t0, period, current)
        if (n % take_every == 0 or n == len(chunks)) and (taken := decimator.take()) is not None:
            if start is None:
                start = taken[0]
            else:
                assert taken[0] == start + len(lows) * bucket_us  # no bucket skipped or repeated
            lows += taken[1]
            highs += taken[2]
    return start, lows, highs


@pytest.mark.parametrize(("period_us", "sizes", "take_every"), [
    (10.0, [1005] * 40, 1),  # PPK2 samples in tty-sized reads
    (10.0, [5000] * 8, 3),  # PPK2 samples in 50 ms batches, taken every 150 ms
    (10.0, [1, 199, 200, 201, 7, 3000, 1, 1] * 5, 2),  # chunks cut anywhere, one sample on its own
    (100.0, [37, 120, 64] * 10, 1),  # LPM01A at 10 kHz
    (5000.0, [3, 1, 4, 1, 5] * 4, 2),  # samples longer than a bucket: buckets without one are None
])  # fmt: skip
def test_buckets_match_a_sample_by_sample_reference(period_us, sizes, take_every):
    rng = np.random.default_rng(7)
    current = rng.random(sum(sizes)) * 0.02
    t0 = 1234.0 * period_us  # not on a bucket boundary
    chunks, times, k = [], [], 0
    for size in sizes:
        chunks.append((t0 + k * period_us, period_us, current[k : k + size]))
        times += [t0 + (k + j) * period_us for j in range(size)]
        k += size
    start, lows, highs = decimated(chunks, 2000.0, take_every)
    first = math.floor(t0 / 2000.0)
    assert start == first * 2000.0
    assert (lows, highs) == reference(times, current, 2000.0, first, first + len(lows) - 1)
    assert len(lows) >= math.floor(times[-1] / 2000.0) - first - 1  # all but the one still filling


def test_lost_samples_leave_empty_buckets():
    current = np.full(1000, 0.005)
    decimator = TraceDecimator(2000.0)
    decimator.feed(0.0, 10.0, current[:200])  # bucket 0
    decimator.feed(6000.0, 10.0, current[200:300])  # the first half of bucket 3: samples lost before it
    decimator.feed(7000.0, 10.0, current[300:])  # the rest of bucket 3, and 4..6
    start, lows, highs = decimator.take()
    assert start == 0.0
    assert lows == highs == [5000.0, None, None, 5000.0, 5000.0, 5000.0]
    assert decimator.take() is None  # bucket 6 is still filling
