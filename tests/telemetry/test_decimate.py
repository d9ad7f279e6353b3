"""Min/max decimation: spikes survive, cost stays linear."""

import math
import time

import pytest

from fleet.telemetry.decimate import MinMaxDecimator, minmax


def test_minmax_keeps_spikes_and_empty_buckets():
    times = [i / 1000 for i in range(1000)]  # 1 kHz for one second
    values = [1.0] * 1000
    values[123] = 50.0
    values[800] = -7.0
    out = minmax(times, values, 0.0, 2.0, 20)  # the second second has no data
    assert len(out) == 20
    assert out[1].max == 50.0 and out[1].min == 1.0 and out[1].count == 100
    assert out[8].min == -7.0
    assert all(b is None for b in out[10:])
    assert sum(b.count for b in out if b) == 1000


def test_minmax_ignores_samples_outside_the_range():
    out = minmax([0.0, 1.0, 2.0, 3.0], [5.0, 6.0, 7.0, 8.0], 1.0, 3.0, 2)
    assert [(b.min, b.max, b.count) for b in out] == [(6.0, 6.0, 1), (7.0, 7.0, 1)]


def test_minmax_rejects_bad_arguments():
    with pytest.raises(ValueError):
        minmax([0.0], [1.0], 0.0, 1.0, 0)
    with pytest.raises(ValueError):
        minmax([0.0], [1.0, 2.0], 0.0, 1.0, 4)
    with pytest.raises(ValueError):
        minmax([0.0], [1.0], 1.0, 1.0, 4)


def test_rolling_decimator_buckets_a_1khz_stream():
    dec = MinMaxDecimator(width=0.1, capacity=50)
    for i in range(10_000):  # ten seconds of a 1 kHz sine
        t = i / 1000
        dec.add(t, math.sin(2 * math.pi * t))
    buckets = dec.buckets()
    assert len(buckets) == 50  # only the newest capacity are kept
    assert buckets[0].start == pytest.approx(5.0)
    assert all(b.count == 100 for b in buckets)
    assert max(b.max for b in buckets) == pytest.approx(1.0, abs=1e-4)
    assert min(b.min for b in buckets) == pytest.approx(-1.0, abs=1e-4)
    assert [b.start for b in dec.buckets(since=9.5)] == pytest.approx([9.5, 9.6, 9.7, 9.8, 9.9])


def test_late_samples_join_the_newest_bucket():
    dec = MinMaxDecimator(width=1.0)
    dec.add(5.2, 1.0)
    dec.add(4.0, 9.0)
    assert [(b.start, b.max, b.count) for b in dec.buckets()] == [(5.0, 9.0, 2)]


def test_decimating_a_1khz_stream_is_cheap():
    dec = MinMaxDecimator(width=0.01)
    start = time.perf_counter()
    for i in range(100_000):  # 100 s of a 1 kHz stream
        dec.add(i / 1000, float(i % 17))
    assert time.perf_counter() - start < 1.0  # about 1 us per sample on this class of machine


def test_the_newest_bucket_shortcut_puts_every_sample_where_the_index_does():
    # Samples at and around bucket edges (0.3 / 0.1 is 2.9999999999999996 in binary), and late ones.
    times = sorted({round(k * 0.05 + d, 12) for k in range(400) for d in (-1e-12, 0.0, 1e-12, 0.013)})
    times += [times[-1] - 0.4, times[-1]]  # a sample older than the newest bucket joins it
    fast = MinMaxDecimator(0.1, capacity=10_000)
    for i, t in enumerate(times):
        fast.add(t, float(i))
    expected: dict[float, list[float]] = {}
    newest = None
    for i, t in enumerate(times):
        index = math.floor(round(t / 0.1, 9))
        if newest is not None and index <= newest:
            index = newest
        newest = index
        expected.setdefault(index * 0.1, []).append(float(i))
    got = {b.start: (b.count, b.min, b.max) for b in fast.buckets()}
    assert got == {start: (len(v), min(v), max(v)) for start, v in expected.items()}


def test_samples_folded_later_give_the_bucket_each_sample_would():
    # The newest bucket's samples are folded when it is read or a new one starts; a NaN
    # (a float output can be one) must leave min and max as adding each sample would.
    series = [5.0, 1.0, math.nan, 9.0, 3.0]
    dec = MinMaxDecimator(width=1.0)
    for i, value in enumerate(series):
        dec.add(10 + i / 10, value)
    (bucket,) = dec.buckets()
    assert (bucket.count, bucket.min, bucket.max, bucket.first, bucket.last) == (5, 1.0, 9.0, 5.0, 3.0)
    dec.add(10.6, math.nan)  # read, then a NaN first in the list of the next fold
    dec.add(10.7, 0.5)
    dec.add(11.2, 7.0)  # a new bucket: the last one's samples are folded into it
    first, second = dec.buckets()
    assert (first.count, first.min, first.max, first.last) == (7, 0.5, 9.0, 0.5)
    assert (second.start, second.count, second.min, second.max) == (11.0, 1, 7.0, 7.0)


def test_extend_buckets_exactly_as_adding_one_by_one():
    # In chunks of every size, at and around bucket edges, with late samples and a NaN: the
    # bulk path (bisecting ascending times) and its one-by-one fallback both match `add`.
    times = sorted({round(k * 0.05 + d, 12) for k in range(200) for d in (-1e-12, 0.0, 1e-12, 0.013)})
    times[300:300] = [times[299] - 0.4]  # going back: that chunk falls back to `add`
    values = [float((i * 37) % 101) for i in range(len(times))]
    values[500] = math.nan
    for chunk in (1, 2, 7, 64, len(times)):
        one, bulk = MinMaxDecimator(0.1, capacity=10_000), MinMaxDecimator(0.1, capacity=10_000)
        for t, v in zip(times, values):
            one.add(t, v)
        for i in range(0, len(times), chunk):
            bulk.extend(times[i : i + chunk], values[i : i + chunk])
        assert bulk.samples == one.samples == len(times)
        assert repr(bulk.buckets()) == repr(one.buckets())  # repr: NaN != NaN, but prints alike
    with pytest.raises(ValueError):
        MinMaxDecimator(0.1).extend([0.0, 1.0], [1.0])
