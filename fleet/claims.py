"""The boards that claim one uid while it is in conflict, watched through their connectors
until one of them is left.

A manager with discovery ends a conflict when a scan hears the uid on one port only. A
manager without it (boards handed to `add_board`) has no scan to hear that, so it keeps a
connection to every claimant instead: when one goes (its connection ends and it does not
answer again), the one left is the board, and the manager manages it again. A claimant is
gone only once seen going: one never reached since the conflict began (the first board,
whose session the conflict closed, until it answers again) or whose port someone else
holds may be there, and the conflict stays.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fleet.cancel import cancel_and_wait
from fleet.client import BoardClient
from fleet.connect import Connector
from fleet.errors import FleetError, PortBusy


@dataclass(slots=True)
class Claimant:
    """One board claiming the uid: how to reach it, and the connection to it while one is up."""

    connector: Connector
    client: BoardClient | None = None
    seen: bool = False  # a connection to it was up since the conflict began
    busy: bool = False  # its port is held by someone else: it cannot be told absent

    @property
    def gone(self) -> bool:
        """Seen, and neither connected nor busy now."""
        return self.seen and self.client is None and not self.busy


class Claims:
    """Every board that claims `uid` (see the module doc); `settle()` waits for the one left."""

    def __init__(self, uid: str, retry_s: float, connect_timeout_s: float) -> None:
        self.uid = uid
        self.retry_s = retry_s
        self.connect_timeout_s = connect_timeout_s
        self.claimants: list[Claimant] = []
        self._changed = asyncio.Event()

    def add(self, connector: Connector, client: BoardClient | None = None) -> None:
        """One more board claims the uid (`client`: a connection to it that is up, kept)."""
        self.claimants.append(Claimant(connector, client, seen=client is not None))
        self._changed.set()

    async def settle(self) -> Claimant:
        """Wait until exactly one claimant answers as the uid and every other is gone;
        return it, its connection open. Closes every other connection (all, if cancelled)."""
        try:
            while True:
                self._changed.clear()
                for claimant in list(self.claimants):
                    await self._check(claimant)
                live = [c for c in self.claimants if c.client is not None]
                if len(live) == 1 and all(c.gone for c in self.claimants if c is not live[0]):
                    winner = live[0]
                    self.claimants.remove(winner)
                    return winner
                await self._wait(live, retry=len(live) < len(self.claimants))
        finally:
            await self.close()

    async def close(self) -> None:
        """Close every connection held (the winner's is no longer held)."""
        for claimant in self.claimants:
            client, claimant.client = claimant.client, None
            if client is not None:
                await client.close()

    async def _check(self, claimant: Claimant) -> None:
        if claimant.client is not None and claimant.client.connected:
            return
        if claimant.client is not None:
            await claimant.client.close()
            claimant.client = None
        claimant.busy = False
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                client = await claimant.connector()
        except PortBusy:
            claimant.busy = True  # someone else holds its port: it may well be there
            return
        except (FleetError, OSError, TimeoutError):
            return  # not there now
        assert client.info is not None
        if client.info.uid.hex() != self.uid:
            await client.close()  # that connector reaches another board now: no claim
            self.claimants.remove(claimant)
            return
        claimant.client, claimant.seen = client, True

    async def _wait(self, live: list[Claimant], *, retry: bool) -> None:
        """Until a held connection ends or a claimant is added; with `retry`, at most
        `retry_s` (a claimant that did not answer is tried again then)."""
        waits = [asyncio.ensure_future(c.client.wait_closed()) for c in live if c.client is not None]
        waits.append(asyncio.ensure_future(self._changed.wait()))
        try:
            await asyncio.wait(waits, timeout=self.retry_s if retry else None, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await cancel_and_wait(*waits)
