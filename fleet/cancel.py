"""Stopping tasks from another one, without losing the stopper's own cancellation."""

from __future__ import annotations

import asyncio


async def cancel_and_wait(*tasks: asyncio.Future[object], expected: tuple[type[Exception], ...] = ()) -> None:
    """Cancel every one of `tasks` and wait until all have ended; then raise the first
    exception (in argument order) one of them ended with, other than being cancelled or
    one of `expected` (how they may end anyway, e.g. PortVanished once their port closes).

    `with suppress(CancelledError): await task` would also swallow a cancellation of the
    caller arriving meanwhile (Ctrl-C, a manager stopped while its scanner stops a session),
    which then runs on as if nothing had happened; and a loop of those stops waiting at the
    first task that raised. `asyncio.wait` never raises for the tasks, so a CancelledError
    here is always the caller's: it propagates at once (every task has been told to stop,
    none is waited for any longer). Tasks already done are fine; the exceptions of all are
    retrieved, so none is reported as never retrieved.
    """
    pending = {task for task in tasks if not task.done()}
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    failures = [task.exception() for task in tasks if not task.cancelled()]
    first = next((exc for exc in failures if exc is not None and not isinstance(exc, expected)), None)
    if first is not None:
        raise first
