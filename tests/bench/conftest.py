"""Fixtures for bench tests: a private arena cache, virtual boards with known figures under a FleetManager."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path


from fleet.bench.run import bench_streams
from fleet.manager import FleetManager
from fleet.profiles import Profile
from fleet.sim.factory import make_engine, program_model
from fleet.connect import memory_connector
from fleet.sim.ports import MemoryPorts
from fleet.sim.virtual_board import LinkConfig, VirtualBoard



@contextlib.asynccontextmanager
async def bench_boards(profiles: list[Profile], state: Path, *, model: bytes | None = None,
                       ) -> AsyncIterator[FleetManager]:  # fmt: skip
    """Boards of the given profiles on memory pipes (no line pacing), under a manager streaming as `fleet bench` does.

    `max_lag_us=None`: a board whose host falls behind catches up on its own schedule
    instead of skipping ahead, so its device timeline stays exactly back to back however
    loaded the test machine is.
    """
    boards = []
    manager = FleetManager(discover=False, streams=bench_streams(10), offline_after_s=5.0, rescan_interval_s=0.5)
    try:
        await manager.start()
        for index, profile in enumerate(profiles):
            engine = make_engine(profile, state / f"board{index}", name=f"bench-test:{index}", seed=index,
                                 max_lag_us=None)  # fmt: skip
            if model is not None:
                program_model(engine, model, name="preloaded")
            ports = MemoryPorts(f"bench{index}")
            board = VirtualBoard(engine, ports, LinkConfig(baud=None), seed=index)
            boards.append(board)
            await board.start()
            await manager.add_board(memory_connector(ports), name=f"{profile.name}-{index}")
        yield manager
    finally:
        await manager.stop()
        for board in boards:
            await board.stop()
