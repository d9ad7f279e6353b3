"""Decimation for display: a 1 kHz stream drawn on 80 columns needs 80 (min, max) pairs.

Min/max per bucket keeps every spike visible (an average would hide them), and costs
O(1) per sample:

- `minmax(times, values, t0, t1, buckets)`: one pass over sampled data, e.g. to draw a
  recorded series (times ascending).
- `MinMaxDecimator`: rolling, fixed bucket width; `add(t, v)` per sample, `buckets()` when
  drawing; keeps at most `capacity` buckets, so memory does not grow with time.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(slots=True)
class Bucket:
    """Samples whose time falls in [start, start + width): their count, min, max, first and last."""

    start: float
    count: int
    min: float
    max: float
    first: float
    last: float

    def add(self, value: float) -> None:
        self.count += 1
        if value < self.min:
            self.min = value
        elif value > self.max:
            self.max = value
        self.last = value


def minmax(times: Sequence[float], values: Sequence[float], t0: float, t1: float, buckets: int) -> list[Bucket | None]:
    """`buckets` equal slices of [t0, t1): each the Bucket of its samples, or None if it has none.

    `times` must be ascending; samples outside [t0, t1) are ignored.
    """
    if buckets <= 0:
        raise ValueError("buckets must be > 0")
    if len(times) != len(values):
        raise ValueError("times and values differ in length")
    if t1 <= t0:
        raise ValueError("t1 must be after t0")
    width = (t1 - t0) / buckets
    out: list[Bucket | None] = [None] * buckets
    lo = bisect.bisect_left(times, t0)
    hi = bisect.bisect_left(times, t1, lo)
    for i in range(lo, hi):
        index = min(_bucket_index(times[i] - t0, width), buckets - 1)
        v = values[i]
        b = out[index]
        if b is None:
            out[index] = Bucket(t0 + index * width, 1, v, v, v, v)
        else:
            b.add(v)
    return out


class MinMaxDecimator:
    """Rolling min/max buckets of `width` seconds; the newest `capacity` are kept."""

    def __init__(self, width: float, capacity: int = 512) -> None:
        if width <= 0 or capacity <= 0:
            raise ValueError("width and capacity must be > 0")
        self.width = width
        self.capacity = capacity
        self._buckets: deque[Bucket] = deque(maxlen=capacity)
        self.samples = 0
        self._newest = 0  # index of the newest bucket (start / width)
        # Samples before this time surely belong to the newest bucket (a hair before its end,
        # clear of _bucket_index's rounding): most samples skip the index computation.
        self._surely_newest = -math.inf
        self._pending: list[float] = []  # samples of the newest bucket not yet in it (see _fold)

    def add(self, t: float, value: float) -> None:
        """One sample; times should not go back (a sample older than the newest bucket joins it)."""
        self.samples += 1
        if t < self._surely_newest:
            self._pending.append(value)
            return
        index = _bucket_index(t, self.width)
        if self._buckets and index <= self._newest:
            self._pending.append(value)  # the current bucket, or a late sample counted in it
            return
        self._fold()
        self._newest = index
        self._surely_newest = (index + 1 - 1e-6) * self.width
        self._buckets.append(Bucket(index * self.width, 1, value, value, value, value))

    def extend(self, times: Sequence[float], values: Sequence[float]) -> None:
        """`add` of each sample in turn, in bulk: when `times` ascend, the cost is a bisection
        per bucket (and C-speed list work per sample), not a Python call per sample."""
        n = len(times)
        if len(values) != n:
            raise ValueError("times and values differ in length")
        times = times if isinstance(times, list) else list(times)
        total = sum(times)
        if total != total or times != sorted(times):  # a NaN (or infinities), or going back: one by one
            for t, value in zip(times, values):
                self.add(t, value)
            return
        self.samples += n
        pending, width = self._pending, self.width
        i = bisect.bisect_left(times, self._surely_newest)  # as `add`: t < _surely_newest joins the newest
        pending.extend(values[:i])
        while i < n:
            index = _bucket_index(times[i], width)
            if self._buckets and index <= self._newest:
                pending.append(values[i])  # the hair before the newest bucket's end
                i += 1
                continue
            self._fold()
            value = values[i]
            self._newest = index
            self._surely_newest = (index + 1 - 1e-6) * width
            self._buckets.append(Bucket(index * width, 1, value, value, value, value))
            j = bisect.bisect_left(times, self._surely_newest, i + 1)
            pending.extend(values[i + 1 : j])
            i = j

    def _fold(self) -> None:
        # The newest bucket's samples wait in a list and are folded when it is read or a new
        # bucket starts: an append per sample, and min/max over the list at C speed.
        pending = self._pending
        if not pending:
            return
        bucket = self._buckets[-1]
        low, high = min(pending), max(pending)
        if low != low or high != high:  # a NaN: min/max of a list depend on where it is
            for value in pending:
                bucket.add(value)
        else:
            bucket.count += len(pending)
            if low < bucket.min:
                bucket.min = low
            if high > bucket.max:
                bucket.max = high
            bucket.last = pending[-1]
        pending.clear()

    def buckets(self, since: float | None = None) -> list[Bucket]:
        """Buckets oldest first (only those starting at or after `since`, if given)."""
        self._fold()
        if since is None:
            return list(self._buckets)
        return [b for b in self._buckets if b.start >= since]

    def clear(self) -> None:
        self._pending.clear()
        self._buckets.clear()
        self._surely_newest = -math.inf


def _bucket_index(t: float, width: float) -> int:
    # Rounded before the floor: 0.3 / 0.1 is 2.9999999999999996 in binary floating point,
    # and a sample at 0.3 s belongs in the bucket that starts there.
    return math.floor(round(t / width, 9))
