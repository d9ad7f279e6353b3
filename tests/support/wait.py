"""Waiting on a condition, not on the clock: for tests whose other side runs on its own
(a PTY meter, a thread, a child process), with a deadline generous enough for a loaded CI
machine. The condition is exact; only how long it may take to come true is generous."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

DEADLINE_S = 30.0


async def until(condition: Callable[[], bool], what: str, timeout: float = DEADLINE_S, poll: float = 0.002) -> None:
    """Return once `condition()` holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        await asyncio.sleep(poll)
