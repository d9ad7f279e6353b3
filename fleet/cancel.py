"""Stopping a task from another one, without losing the stopper's own cancellation."""

from __future__ import annotations

import asyncio


async def cancel_and_wait(task: asyncio.Task[object]) -> None:
    """Cancel `task` and wait until it has ended; raise what it raised, if not cancelled.

    `with suppress(CancelledError): await task` would also swallow a cancellation of the
    caller arriving meanwhile (Ctrl-C, a manager stopped while its scanner stops a session),
    which then runs on as if nothing had happened. `asyncio.wait` never raises for the
    task, so a CancelledError here is always the caller's, and it propagates.
    """
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]
