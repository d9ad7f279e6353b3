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
    """`time.monotonic` in microseconds: the same timebase as asyncio's `loop.time()`.

    With `pause_when_late`, the board's time stands still while its runner is late: a tick
    due at host time T that runs at T + d moves the clock back by d for good, as if the
    board had been paused for d. The device timeline then does not depend on how loaded
    the host is (no burst to catch up, no schedule skipped), which tests of exact figures
    need; device time falls behind host time by the delays absorbed.
    """

    def __init__(self, *, pause_when_late: bool = False) -> None:
        self.pause_when_late = pause_when_late
        self._paused_us = 0

    def now_us(self) -> int:
        return time.monotonic_ns() // 1000 - self._paused_us

    def host_time(self, device_us: int) -> float:
        """The `loop.time()` at which this clock reads `device_us`."""
        return (device_us + self._paused_us) / 1e6

    def ran_late(self, due: float) -> None:
        """A step due at host time `due` (seconds) runs now: pause for the delay, if pausing."""
        late = time.monotonic_ns() // 1000 - round(due * 1e6)
        if self.pause_when_late and late > 0:
            self._paused_us += late


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

    def host_time(self, device_us: int) -> float:
        return device_us / 1e6

    def ran_late(self, due: float) -> None:
        """Nothing: this clock only moves when told to."""

    def set(self, now_us: int) -> None:
        if now_us < self._now:
            raise ValueError("a monotonic clock does not go back")
        self._now = now_us
