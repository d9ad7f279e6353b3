"""The fleet manager over a board that lies in its events: the link ends with the board
named and its lie as the reason, and the board is not hammered with reconnects."""

from __future__ import annotations

import asyncio

import pytest

from fleet.connect import connect_port, memory_connector
from fleet.errors import BoardRefused
from fleet.manager import FleetManager
from fleet.connect import memory_connector
from tests.hostile.farm import hostile_farm



async def test_a_board_lying_at_hello_is_not_added(tmp_path):
    async with hostile_farm("slot-state", tmp_path=tmp_path) as farm:
        async with FleetManager(discover=False) as manager:
            with pytest.raises(BoardRefused, match="refused: Info: slot 0 state is 9"):
                await manager.add_board(memory_connector(farm.memory_ports[0]))
            assert not manager.boards


async def test_a_board_lying_in_events_waits_a_rescan_interval_between_tries(tmp_path):
    async with hostile_farm("malformed", tmp_path=tmp_path, pty=True) as farm:
        async with FleetManager(discover=False, rescan_interval_s=1.0) as manager:
            port = farm.boards[0].port
            state = await manager.add_board(lambda: connect_port(port, 921_600, manager.config, "evil"), name="evil")
            await asyncio.sleep(2.5)
            assert state.reason is not None and "refused: Power: payload is 20 bytes, expected 22" in state.reason
            # Each connection lives until the first POWER (10 ms); without a pause it would reconnect ~100 times.
            assert state.reconnects <= 3
