"""Clocks for virtual boards: the host's monotonic clock, or a fake one tests move by hand.

Everything time-dependent in a board (device time, stream schedules, energy) reads one
`Clock`, so a test can set the time and derive every number exactly.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """A monotonic microsecond clock."""

    def now_us(self) -> int: ...


class MonotonicClock:
    """`time.monotonic` in microseconds: the same timebase as asyncio's `loop.time()`."""

    def now_us(self) -> int:
        return time.monotonic_ns() // 1000


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start_us: int = 0) -> None:
        self._now = start_us

    def now_us(self) -> int:
        return self._now

    def advance(self, us: int) -> None:
        if us < 0:
            raise ValueError("a monotonic clock does not go back")
        self._now += us

    def set(self, now_us: int) -> None:
        if now_us < self._now:
            raise ValueError("a monotonic clock does not go back")
        self._now = now_us
