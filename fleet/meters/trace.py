"""A meter's current, decimated for live views: min and max per fixed bucket of meter time.

`TraceDecimator.feed` takes each chunk of samples as the driver delivers it (chunks need
not align with buckets); `take` hands over the buckets completed since the last call, as
the (start, minima, maxima) a `TraceEvent` carries. Min/max rather than a mean keeps an
inference's current pulse visible when it is shorter than a bucket.
"""

from __future__ import annotations

import numpy as np

BUCKET_US = 2000.0  # 50 buckets per 100 ms power interval: a 0.4 ms inference still shows


class TraceDecimator:
    """Min/max current (µA) per `bucket_us` of meter time; see the module doc."""

    def __init__(self, bucket_us: float = BUCKET_US) -> None:
        self.bucket_us = bucket_us
        self._open: tuple[int, float, float] | None = None  # (bucket index, min, max) still filling
        self._done: dict[int, tuple[float, float]] = {}
        self._first: int | None = None  # index of the oldest bucket not yet taken

    def feed(self, t0_us: float, period_us: float, current_a: np.ndarray) -> None:
        n = len(current_a)
        if not n:
            return
        ua = np.asarray(current_a, dtype=np.float64) * 1e6
        index = np.floor((t0_us + np.arange(n) * period_us) / self.bucket_us).astype(np.int64)
        starts = np.concatenate(([0], np.flatnonzero(np.diff(index)) + 1))
        lows, highs = np.minimum.reduceat(ua, starts), np.maximum.reduceat(ua, starts)
        for i, lo, hi in zip(index[starts].tolist(), lows.tolist(), highs.tolist(), strict=True):
            if self._open is not None and self._open[0] == i:
                _, olo, ohi = self._open
                self._open = (i, min(olo, lo), max(ohi, hi))
                continue
            self._close()
            self._open = (i, lo, hi)
            if self._first is None:
                self._first = i

    def _close(self) -> None:
        if self._open is not None:
            i, lo, hi = self._open
            self._done[i] = (lo, hi)
            self._open = None

    def take(self) -> tuple[float, list[float | None], list[float | None]] | None:
        """(start µs of the first bucket, minima, maxima) of the buckets completed since the
        last call, None when there are none. Buckets no sample fell in are None."""
        if not self._done or self._first is None:
            return None
        last = max(self._done)
        lows: list[float | None] = []
        highs: list[float | None] = []
        for i in range(self._first, last + 1):
            lo_hi = self._done.pop(i, None)
            lows.append(None if lo_hi is None else round(lo_hi[0], 1))
            highs.append(None if lo_hi is None else round(lo_hi[1], 1))
        start = self._first * self.bucket_us
        self._first = last + 1
        return start, lows, highs
