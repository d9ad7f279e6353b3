"""Cancellations that land a chosen number of loop steps after what a task waits for.

On Python 3.11 `asyncio.wait_for` returns a result that is ready when a cancellation of its
caller is handled, and drops the cancellation: the caller runs on as if never cancelled.
Which step that is depends on how many hops (inner task, done callbacks) lie between the
wake-up and the caller, so the tests cancel 0, 1, 2, ... steps after it, each run the same
on any machine (no clock involved), and hold one invariant: a task still running when
`cancel()` was called ends cancelled.
"""

from __future__ import annotations

import asyncio

STEPS = range(4)  # enough hops for wait_for over a coroutine, a gather or a shield
GUARD_S = 30  # not a timing assertion: a hang fails the test instead of the run


class Canceller:
    """Calls `victim.cancel()` `steps` loop steps after `fire()` (0: within fire's own step)."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.victim: asyncio.Task[object] | None = None
        self.accepted: bool | None = None  # what cancel() returned: True if the victim still ran
        self.fired = asyncio.Event()

    def fire(self) -> None:
        if self.victim is not None and self.accepted is None:
            self._after(self.steps)

    def _after(self, steps: int) -> None:
        if steps == 0:
            assert self.victim is not None
            self.accepted = self.victim.cancel()
            self.fired.set()
        else:
            asyncio.get_running_loop().call_soon(self._after, steps - 1)

    async def outcome(self) -> asyncio.Task[object]:
        """The victim, once it has ended; fails if a cancellation it got was lost."""
        assert self.victim is not None
        fired = asyncio.ensure_future(self.fired.wait())
        await asyncio.wait({fired}, timeout=GUARD_S)
        fired.cancel()
        assert self.fired.is_set(), "the cancellation never came (fire() was not called)"
        await asyncio.wait({self.victim}, timeout=GUARD_S)
        assert self.victim.done(), "the cancelled task did not end: its cancellation was lost"
        if self.accepted:
            assert self.victim.cancelled(), f"cancelled while running, yet it returned {self.victim.result()!r}"
        return self.victim


class CancelOnSet(asyncio.Event):
    """An event whose `set()` also fires `canceller`: the wake-up and the cancellation together."""

    def __init__(self, canceller: Canceller, *, is_set: bool = False) -> None:
        super().__init__()
        self.canceller = canceller
        if is_set:
            super().set()

    def set(self) -> None:
        super().set()
        self.canceller.fire()
