"""Virtual boards on memory pipes (no line pacing) under a started `FleetManager`: the one
in-process farm that manager, telemetry, meter, bench and TUI tests share.

    async with managed_farm(gesture.data, boards=2) as (farm, manager):
        ...  # farm.boards: the VirtualBoards; manager: owns every one of them
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.sim import require_sim

require_sim()  # virtual boards need the simulator extra

from fleet.manager import FleetManager  # noqa: E402
from fleet.profiles import Profile, get_profile  # noqa: E402
from fleet.protocol import StreamConfig  # noqa: E402
from fleet.sim.factory import make_engine, program_model  # noqa: E402
from fleet.sim.clock import MonotonicClock  # noqa: E402
from fleet.sim.farm import MAX_LAG_US  # noqa: E402
from fleet.sim.ports import MemoryPorts  # noqa: E402
from fleet.sim.virtual_board import LinkConfig, VirtualBoard  # noqa: E402
from fleet.connect import memory_connector  # noqa: E402


@dataclass
class Farm:
    boards: list[VirtualBoard] = field(default_factory=list)
    ports: list[MemoryPorts] = field(default_factory=list)


@contextlib.asynccontextmanager
async def managed_farm(
    model: bytes | None, *, boards: int | None = None, profiles: Sequence[str | Profile] = ("nano33ble",),
    streams: StreamConfig | None = None, seed: int = 11, model_name: str = "gesture",
    exact_time: bool = False, state_dir: Path | None = None, **manager_kw: object,
) -> AsyncIterator[tuple[Farm, FleetManager]]:  # fmt: skip
    """`boards` boards (default: one per profile; profiles are cycled) running `model` from
    the factory, and a started manager that owns them.

    `exact_time`: each board's clock pauses while the host runs it late
    (`MonotonicClock(pause_when_late=True)`), so its device timeline is the same however
    loaded the test machine is (what exact figures need); otherwise a board that falls
    far behind skips ahead, as `fleet sim` boards do."""
    kinds = [get_profile(p) if isinstance(p, str) else p for p in profiles]
    count = len(kinds) if boards is None else boards
    kw = {"offline_after_s": 3.0, "rescan_interval_s": 0.5, **manager_kw}
    if streams is not None:
        kw["streams"] = streams
    farm = Farm()
    manager = FleetManager(discover=False, **kw)  # type: ignore[arg-type]
    with contextlib.ExitStack() as temp:
        state = state_dir or Path(temp.enter_context(tempfile.TemporaryDirectory(prefix="fleet-farm-")))
        try:
            await manager.start()
            for index in range(count):
                profile = kinds[index % len(kinds)]
                clock = MonotonicClock(pause_when_late=exact_time)
                engine = make_engine(profile, state / f"board{index:02d}", name=f"{seed}:{index}", seed=seed + index,
                                     clock=clock, max_lag_us=None if exact_time else MAX_LAG_US)  # fmt: skip
                if model is not None:
                    program_model(engine, model, name=model_name)
                ports = MemoryPorts(f"sim{index}")
                board = VirtualBoard(engine, ports, LinkConfig(baud=None), seed=seed + index)
                farm.boards.append(board)
                farm.ports.append(ports)
                await board.start()
                await manager.add_board(memory_connector(ports))
            yield farm, manager
        finally:
            await manager.stop()
            for board in farm.boards:
                await board.stop()
