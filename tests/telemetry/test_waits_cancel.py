"""The manager's waits with a timeout end cancelled when a cancellation lands with what
they wait for (`wait_online`: a board coming back; `wait_settled`: a board settling), in
whichever loop step after it (tests/support/steps.py).

Before, `asyncio.wait_for` (Python 3.11) returned and dropped the cancellation: a deploy
cancelled (Ctrl-C) while its board reconnected went on with the board's client, and a
`start()` cancelled as its boards settled returned as if started."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.sim import require_sim

require_sim()

from tests.support.farm import managed_farm  # noqa: E402
from tests.support.steps import STEPS, CancelOnSet, Canceller  # noqa: E402


@pytest.mark.parametrize("steps", STEPS)
async def test_a_wait_online_cancelled_as_its_board_comes_back_ends_cancelled(steps):
    async with managed_farm(None, boards=1) as (farm, manager):
        ((uid, session),) = manager._sessions.items()
        canceller = Canceller(steps)
        session.online = CancelOnSet(canceller, is_set=session.online.is_set())
        await farm.boards[0].unplug()
        while session.online.is_set():  # the session sees its port go
            await asyncio.sleep(0)
        canceller.victim = asyncio.create_task(manager.wait_online(uid, 3600))
        await farm.boards[0].plug()  # the session connects again and sets `online`
        assert (await canceller.outcome()).cancelled() or steps > 0


@pytest.mark.parametrize("steps", STEPS)
async def test_a_settle_wait_cancelled_as_its_board_settles_ends_cancelled(steps):
    async with managed_farm(None, boards=1) as (farm, manager):
        ((session),) = manager._sessions.values()
        canceller = Canceller(steps)
        session.settled = CancelOnSet(canceller)  # as if the board had not connected yet
        canceller.victim = asyncio.create_task(manager.wait_settled(3600))
        await asyncio.sleep(0)
        await farm.boards[0].unplug()  # the connection ends: the session has settled
        assert (await canceller.outcome()).cancelled() or steps > 0
