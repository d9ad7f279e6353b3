"""A meter's current, decimated for live views: min and max per fixed bucket of meter time.

`TraceDecimator.feed` takes each chunk of samples as the driver delivers it (chunks need
not align with buckets); `take` hands over the buckets completed since the last call, as
the (start, minima, maxima) a `TraceEvent` carries. Min/max rather than a mean keeps an
inference's current pulse visible when it is shorter than a bucket.

Both run at 100,000 samples a second per meter, so neither loops over samples or buckets
in Python: a chunk's buckets are found from their start times (not per sample), and the
buckets wait as arrays until `take` joins them.
"""

from __future__ import annotations

import math

import numpy as np

BUCKET_US = 2000.0  # 50 buckets per 100 ms power interval: a 0.4 ms inference still shows


class TraceDecimator:
    """Min/max current (µA) per `bucket_us` of meter time; see the module doc."""

    def __init__(self, bucket_us: float = BUCKET_US) -> None:
        self.bucket_us = bucket_us
        # Per chunk fed since the last take: its buckets (ascending) and their min and max (A).
        # A bucket that spans two chunks appears in both; the latest bucket may still fill.
        self._index: list[np.ndarray] = []
        self._low: list[np.ndarray] = []
        self._high: list[np.ndarray] = []
        self._first: int | None = None  # index of the oldest bucket not yet taken

    def feed(self, t0_us: float, period_us: float, current_a: np.ndarray) -> None:
        """Samples from t0_us, each period_us long; sample k falls in the bucket holding t0_us + k * period_us."""
        n = len(current_a)
        if not n:
            return
        first = math.floor(t0_us / self.bucket_us)
        last = math.floor((t0_us + (n - 1) * period_us) / self.bucket_us)
        buckets = np.arange(first, last + 1)
        # Where each bucket's samples start; a bucket shorter than the sample period may hold none.
        starts = np.empty(len(buckets) + 1, dtype=np.intp)
        starts[0], starts[-1] = 0, n
        starts[1:-1] = np.clip(np.ceil((buckets[1:] * self.bucket_us - t0_us) / period_us), 0, n)
        held = starts[1:] > starts[:-1]
        starts = starts[:-1][held]
        self._index.append(buckets[held])
        self._low.append(np.minimum.reduceat(current_a, starts))
        self._high.append(np.maximum.reduceat(current_a, starts))
        if self._first is None:
            self._first = first

    def take(self) -> tuple[float, list[float | None], list[float | None]] | None:
        """(start µs of the first bucket, minima, maxima) of the buckets completed since the
        last call, None when there are none. Buckets no sample fell in are None."""
        if not self._index or self._first is None:
            return None
        index, low, high = (np.concatenate(parts) for parts in (self._index, self._low, self._high))
        done = index < index[-1]  # the latest bucket may still fill: it waits
        if not done.any():
            return None
        self._index, self._low, self._high = [index[~done]], [low[~done]], [high[~done]]
        index, low, high = index[done], low[done], high[done]
        merged = np.flatnonzero(np.diff(index, prepend=index[0] - 1))  # a bucket split over two chunks: one
        index = index[merged]
        first, last = self._first, int(index[-1])
        lows = np.full(last - first + 1, np.nan)
        highs = np.full(last - first + 1, np.nan)
        lows[index - first] = np.round(np.minimum.reduceat(low, merged) * 1e6, 1)  # µA: scaling keeps the order
        highs[index - first] = np.round(np.maximum.reduceat(high, merged) * 1e6, 1)
        self._first = last + 1
        return first * self.bucket_us, _with_gaps(lows), _with_gaps(highs)


def _with_gaps(values: np.ndarray) -> list[float | None]:
    """NaN (a bucket without samples) as None."""
    out = values.tolist()
    if len(out) == np.count_nonzero(values == values):
        return out
    return [None if v != v else v for v in out]
