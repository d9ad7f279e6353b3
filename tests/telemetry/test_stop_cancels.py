"""`FleetManager.stop()` and `BoardSession.stop()` end their tasks even when the stop lands
in the loop step where what the task waited for has just happened; and a stop that is
itself cancelled (Ctrl-C; a manager stopped while its scanner stops a session) ends
cancelled instead of swallowing that (`fleet.cancel.cancel_and_wait`).

On Python 3.11 `asyncio.wait_for` returns the inner result and drops a cancellation that
arrives in that step; a board session then served on (or a scanner scanned on) and stop()
waited for it forever: the hang seen once in four `add_board` + `stop()` runs with a meter
attached (fleet sim --boards 2 --meter ppk2 reproduced it within a few tries). Each test
sets the awaited event, lets the waiting side finish one step, and stops in the next."""

from __future__ import annotations

import asyncio

from fleet.board_session import BoardSession, SessionContext
from fleet.config import FleetConfig
from fleet.errors import PortNotFound
from fleet.manager import DEFAULT_STREAMS, FleetManager
from fleet.telemetry.labels import ModelCatalog
from fleet.telemetry.state import BoardState

GUARD_S = 30  # not a timing assertion: a hang fails the test instead of the run


async def stops(stop) -> None:  # noqa: ANN001 - a coroutine
    """Run `stop`; fail if it has not ended within GUARD_S (it hangs, it is not slow)."""
    stopping = asyncio.ensure_future(stop)
    done, _ = await asyncio.wait({stopping}, timeout=GUARD_S)
    assert done, "stop() did not end: a cancellation was lost"
    stopping.result()


async def pausing_session() -> BoardSession:
    """A session whose board is not there, in the pause before it tries again."""
    retried = asyncio.Event()

    async def no_board():
        raise PortNotFound("/dev/gone: no such port")

    def publish(event):
        retried.set()  # the connect failed; the session goes straight into its pause

    context = SessionContext(FleetConfig(), ModelCatalog(), DEFAULT_STREAMS, 10.0, 2.0, 30.0, 1.0,
                             publish, lambda: None, lambda events: None)  # fmt: skip
    session = BoardSession(context, BoardState("b", "01", "/dev/gone"), no_board, None)
    session.start()
    await retried.wait()
    return session


async def test_a_session_stopped_as_its_wake_up_comes_stops():
    session = await pausing_session()
    session.wake.set()  # a rescan found the board...
    await asyncio.sleep(0)  # ...the pause has seen it...
    await stops(session.stop())  # ...and the manager stops
    assert session._task is not None and session._task.cancelled()


async def test_a_manager_stopped_as_a_rescan_is_requested_stops(monkeypatch):
    monkeypatch.setattr("fleet.manager.find_candidates", lambda config: [])
    manager = FleetManager(FleetConfig(), rescan_interval_s=60.0)
    await manager.start()
    await asyncio.sleep(0)  # the scanner waits for a request or the interval
    manager.request_scan()
    await asyncio.sleep(0)
    await stops(manager.stop())


async def cancelled_midway(stop) -> asyncio.Task[None]:  # noqa: ANN001 - a coroutine
    """Start `stop`, let it reach the wait for what it stops, cancel it there; its task, ended."""
    stopping = asyncio.ensure_future(stop)
    await asyncio.sleep(0)
    stopping.cancel()
    await asyncio.wait({stopping}, timeout=GUARD_S)
    assert stopping.done(), "stop() did not end"
    return stopping


async def test_a_session_stop_that_is_cancelled_ends_cancelled():
    session = await pausing_session()
    assert (await cancelled_midway(session.stop())).cancelled()
    assert session._task is not None
    await asyncio.wait({session._task}, timeout=GUARD_S)
    assert session._task.cancelled()  # the session was told to stop all the same


async def test_a_manager_stop_that_is_cancelled_ends_cancelled(monkeypatch):
    monkeypatch.setattr("fleet.manager.find_candidates", lambda config: [])
    manager = FleetManager(FleetConfig(), rescan_interval_s=60.0)
    await manager.start()
    await asyncio.sleep(0)
    assert (await cancelled_midway(manager.stop())).cancelled()
    await stops(manager.stop())  # stopping again finishes the job
