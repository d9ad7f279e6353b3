"""`FleetManager.stop()` and `BoardSession.stop()` end their tasks even when the stop lands
in the loop step where what the task waited for has just happened.

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


async def test_a_session_stopped_as_its_wake_up_comes_stops():
    retried = asyncio.Event()

    async def no_board():
        raise PortNotFound("/dev/gone: no such port")

    def publish(event):
        retried.set()  # the connect failed; the session goes straight into its pause

    context = SessionContext(FleetConfig(), ModelCatalog(), DEFAULT_STREAMS, 10.0, 2.0, 30.0, 1.0,
                             publish=publish, request_scan=lambda: None)  # fmt: skip
    session = BoardSession(context, BoardState("b", "01", "/dev/gone"), no_board, None)
    session.start()
    await retried.wait()
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
