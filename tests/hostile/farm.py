"""Hostile virtual boards in-process (memory pipes, no pacing), and a client to meet them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from tests.support.sim import require_sim

require_sim()  # hostile boards are virtual boards

from fleet.client import BoardClient  # noqa: E402
from fleet.models.bundled import bundled_model  # noqa: E402
from fleet.sim.farm import FarmConfig, SimFarm  # noqa: E402
from fleet.sim.virtual_board import LinkConfig  # noqa: E402


@contextlib.asynccontextmanager
async def hostile_farm(*kinds: str, tmp_path, model: bool = True, pty: bool = False) -> AsyncIterator[SimFarm]:  # noqa: ANN001
    """One nano33ble board that lies in the ways `kinds` names; it runs the bundled sine model.
    In memory (no pacing) unless `pty`: then on a PTY at 921600 baud, which a host can reopen."""
    link = LinkConfig(baud=921_600, turnaround_us=500) if pty else LinkConfig(baud=None, turnaround_us=0)
    config = FarmConfig(
        boards=1, seed=5, state_dir=tmp_path / "flash", transport="pty" if pty else "memory", link=link,
        model=bundled_model("sine").read_bytes() if model else None, model_name="sine", model_version="1",
        hostile=kinds,
    )  # fmt: skip
    async with SimFarm(config) as farm:
        yield farm


async def connect(farm: SimFarm, **kwargs: object) -> BoardClient:
    transport = await farm.memory_ports[0].connections.get()
    options = {"timeout": 0.5, "retries": 1, "name": "evil", **kwargs}
    return await BoardClient.connect(transport, **options)  # type: ignore[arg-type]
