"""A fake timer for code that paces itself with `time()` and `sleep()` (a `ReplayClock`):
every sleep returns at once, having moved the time on by exactly what was asked."""

from __future__ import annotations

import asyncio


class FakeTimer:
    """Time in seconds that only moves when slept on; `sleeps` lists every sleep asked for."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # still a suspension point, as a real sleep is
