"""Deploy tests run against virtual boards on real PTYs, opened by pyserial like a USB port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.sim import require_sim

require_sim()  # every test here deploys to virtual boards

from fleet.config import FleetConfig  # noqa: E402
from fleet.connect import connect_port  # noqa: E402
from fleet.deploy.board_deploy import BoardDeploy, DeployOptions, DeployTarget  # noqa: E402
from fleet.deploy.events import DeployEvent  # noqa: E402
from fleet.deploy.model_file import ModelFile  # noqa: E402
from fleet.protocol import SlotState  # noqa: E402
from fleet.sim.faults import FaultSpec  # noqa: E402
from fleet.sim.farm import FarmConfig, SimFarm  # noqa: E402
from fleet.sim.virtual_board import LinkConfig, VirtualBoard  # noqa: E402

CONFIG = FleetConfig()


def target_for(board: VirtualBoard, name: str = "") -> DeployTarget:
    """Connect by the board's current port, as discovery by uid would after a replug."""

    async def connect():
        port = board.port
        if port is None:
            from fleet.errors import PortNotFound

            raise PortNotFound(f"board {board.uid} is unplugged")
        return await connect_port(port, 115200, CONFIG, name or board.uid)

    return DeployTarget(name or f"{board.profile}-{board.uid[-4:]}", board.uid, board.port or "?", connect)


def record_requests(board: VirtualBoard) -> list[int]:
    """The message type of every request the virtual board receives from now on: to show
    what did not cross the wire (no MODEL_BEGIN), whatever retries the load caused."""
    seen: list[int] = []
    handle = board.engine.requests.handle

    def recording(frame) -> None:  # noqa: ANN001
        seen.append(frame.header.type)
        handle(frame)

    board.engine.requests.handle = recording  # type: ignore[method-assign]
    return seen


class Events(list):
    """Collects DeployEvents; `kinds()` for assertions."""

    def __call__(self, event: DeployEvent) -> None:
        self.append(event)

    def kinds(self, board: str | None = None) -> list[str]:
        return [e.event for e in self if board is None or e.board == board]

    def last(self, kind: str) -> DeployEvent:
        return [e for e in self if e.event == kind][-1]


async def running(board: VirtualBoard) -> tuple[bytes, int]:
    """(sha256, state) of the model the board runs, from a fresh HELLO."""
    client = await target_for(board).connect()
    try:
        active = client.info.active
        return (active.sha256, active.state) if active else (b"", SlotState.EMPTY)
    finally:
        await client.close()


async def replug(board: VirtualBoard) -> None:
    await board.unplug()
    await asyncio.sleep(0.2)
    await board.plug()


async def deploy_through_an_unplug(board: VirtualBoard, model: ModelFile, options: DeployOptions, unplug_at: int) -> int:
    """Deploy `model`, unplugging the board once (and plugging it back) when the upload has
    reported `unplug_at` bytes or more; the deploy must confirm and the board run `model`.
    Returns the byte count the upload reported first after the replug: where it resumed."""
    events = Events()

    def watch(event: DeployEvent) -> None:
        events(event)
        if event.phase == "uploading" and unplug_at <= (event.bytes or 0) < len(model.data) and board.port:
            asyncio.get_running_loop().create_task(replug(board))

    result = await BoardDeploy(target_for(board), model, options, watch).run()
    assert result.outcome == "confirmed", result
    assert await running(board) == (model.sha256, SlotState.ACTIVE)
    start = next(i for i, e in enumerate(events) if e.phase == "reconnecting")
    return next(e.bytes for e in events[start:] if e.phase == "uploading")


def farm_config(tmp_path: Path, boards: int = 1, profiles=("nano33ble",), model: bytes | None = None,
                baud: int | None = None, faults: FaultSpec | None = None, seed: int = 1) -> FarmConfig:  # fmt: skip
    return FarmConfig(
        boards=boards, profiles=tuple(profiles), seed=seed, state_dir=tmp_path / "flash", model=model,
        model_name="factory", link=LinkConfig(baud=baud, turnaround_us=200, faults=faults or FaultSpec()),
    )  # fmt: skip


@pytest.fixture
async def one_board(tmp_path: Path, sine: ModelFile) -> AsyncIterator[VirtualBoard]:
    """A nano33ble running sine from the factory, on an unpaced PTY."""
    async with SimFarm(farm_config(tmp_path, model=sine.data)) as farm:
        yield farm.boards[0]


@pytest.fixture
async def limited_board(tmp_path: Path, sine: ModelFile):  # noqa: ANN201 - yields a board factory
    """Start a Pico whose firmware is built differently from the stock profile (`updates`)."""
    from fleet.profiles import get_profile
    from fleet.sim.factory import make_engine, program_model
    from fleet.sim.pty import PtyTransport

    boards = []

    async def start(**updates):
        profile = get_profile("pico").model_copy(update=updates)
        engine = make_engine(profile, tmp_path / f"flash{len(boards)}", name=f"limited{len(boards)}")
        program_model(engine, sine.data, name="factory")
        board = VirtualBoard(engine, PtyTransport, LinkConfig(baud=None, turnaround_us=200))
        await board.start()
        boards.append(board)
        return board

    yield start
    for board in boards:
        await board.stop()
