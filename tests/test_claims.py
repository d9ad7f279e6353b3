"""`fleet.claims.Claims`: the board left claiming a uid is found only once every other
claimant has been seen to go. Boards are scripted on memory pipes; every step is driven by
a connection ending, never by a clock (the retry interval is an hour)."""

from __future__ import annotations

import asyncio

import pytest

from fleet.claims import Claims
from fleet.client import BoardClient
from fleet.errors import PortBusy, PortNotFound
from fleet.transport.memory import memory_pipe
from tests.client.test_client_unit import INFO, Scripted, hello_then

UID = INFO.uid.hex()
HOUR = 3600.0


class Board:
    """A scripted board behind a connector: `present` says whether connecting reaches it."""

    def __init__(self, present: bool = True) -> None:
        self.present = present
        self.busy = False
        self.ends: list = []  # the board end of each connection made
        self.calls = 0

    async def connect(self) -> BoardClient:
        self.calls += 1
        if self.busy:
            raise PortBusy("/dev/x: held by another process")
        if not self.present:
            raise PortNotFound("/dev/x: no such port")
        host, board = memory_pipe()
        Scripted(board, hello_then(lambda seq, msg: None))
        self.ends.append(board)
        return await BoardClient.connect(host)

    async def go(self) -> None:
        """Unplugged: its connection ends and it does not answer again."""
        self.present = False
        await self.ends[-1].close()


async def _steps(n: int = 10) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_the_board_left_wins_once_the_other_was_seen_to_go():
    first, clone = Board(), Board()
    claims = Claims(UID, HOUR, 5.0)
    claims.add(first.connect)  # the board whose session the conflict closed
    claims.add(clone.connect, await clone.connect())
    settling = asyncio.create_task(claims.settle())
    while not all(c.client is not None for c in claims.claimants):  # the first board answers again
        await asyncio.sleep(0)
    await _steps()
    assert not settling.done()  # both answer: the conflict holds
    await clone.go()
    await asyncio.wait({settling}, timeout=30)  # a guard: the code waits for no clock here
    winner = settling.result()
    assert winner.connector == first.connect and winner.client is not None and winner.client.connected
    assert claims.claimants[0].client is None  # the clone's connection is closed
    await winner.client.close()


@pytest.mark.parametrize("why", ["never reached", "busy"])
async def test_a_claimant_never_reached_or_busy_keeps_the_conflict(why):
    """Before the conflict the board was connected: not reached since (its session's
    connection closed by the conflict), or its port held by someone else, it may be there."""
    other, clone = Board(present=why != "never reached"), Board()
    other.busy = why == "busy"
    claims = Claims(UID, HOUR, 5.0)
    claims.add(other.connect)
    claims.add(clone.connect, await clone.connect())
    settling = asyncio.create_task(claims.settle())
    while not other.calls:
        await asyncio.sleep(0)
    await _steps()
    assert not settling.done()  # the clone answers, but the other board was never seen to go
    assert (claims.claimants[0].seen, claims.claimants[0].busy) == (False, why == "busy")
    settling.cancel()
    await asyncio.wait({settling})
    assert settling.cancelled() and all(c.client is None for c in claims.claimants)  # it closed what it held


async def test_a_connector_that_reaches_another_board_is_no_claim():
    other = Board()
    claims = Claims("ffff", HOUR, 5.0)  # the scripted boards answer as 0102
    claims.add(other.connect)
    settling = asyncio.create_task(claims.settle())
    while other.calls == 0 or claims.claimants:
        await asyncio.sleep(0)
    assert not settling.done() and other.ends  # reached, found to be another board, let go
    settling.cancel()
    await asyncio.wait({settling})
