"""Many virtual boards at once: what `fleet sim` runs and what tests start in-process.

    async with SimFarm(FarmConfig(boards=4, profiles=("mixed",))) as farm:
        for board in farm.boards:
            print(board.port, board.uid, board.profile)

Each board gets its own flash directory (`state_dir/boardNN`), a uid (derived from the
seed and its index when a seed is given, so runs are reproducible; random otherwise;
kept in the flash directory either way), a profile (the list is cycled; `mixed` means
every built-in profile in turn) and a port: a new PTY, or an in-memory pipe whose host
end is in `farm.memory_ports[i]`. With `register`, boards appear in the registry from start
to stop; an unplugged board's entry has no port until it is plugged in again.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from fleet.profiles import get_profile, load_profiles
from fleet import virtual_ports as registry
from fleet.sim import runtime
from fleet.sim.factory import make_engine, program_model
from fleet.sim.ports import MemoryPorts
from fleet.sim.pty import PtyTransport
from fleet.sim.virtual_board import LinkConfig, VirtualBoard

MIXED = "mixed"
# A board on the real clock that falls further behind than this skips ahead instead of bursting.
MAX_LAG_US = 200_000


@dataclass(frozen=True, slots=True)
class FarmConfig:
    """How many boards, of what kind, on what link."""

    boards: int = 1
    profiles: tuple[str, ...] = ("nano33ble",)
    link: LinkConfig = field(default_factory=LinkConfig)
    seed: int | None = None
    state_dir: Path | None = None  # None: a temporary directory removed at stop
    model: bytes | None = None  # programmed into slot 0 of every board as ACTIVE
    model_name: str = ""
    model_version: str = ""
    # Program `model` only into boards whose flash holds no model yet (a factory image): a
    # --state directory keeps what was deployed there across runs.
    model_if_blank: bool = False
    transport: Literal["pty", "memory"] = "pty"
    register: bool = False
    registry_dir: Path | None = None
    hostile: tuple[str, ...] = ()  # every board lies in these ways (fleet.sim.hostile.KINDS)
    clone_uid: bytes | None = None  # every board claims this uid, another board's (fleet.sim.hostile)

    def profile_names(self) -> list[str]:
        """The profile of each board, in order."""
        names = list(load_profiles()) if MIXED in self.profiles else list(self.profiles)
        return [names[i % len(names)] for i in range(self.boards)]


class SimFarm:
    """Starts, holds and stops a set of virtual boards; see the module doc."""

    def __init__(self, config: FarmConfig) -> None:
        self.config = config
        self.boards: list[VirtualBoard] = []
        self.memory_ports: list[MemoryPorts] = []
        self._temp_state: Path | None = None

    async def __aenter__(self) -> SimFarm:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> list[VirtualBoard]:
        config = self.config
        state = config.state_dir
        if state is None:
            state = self._temp_state = Path(tempfile.mkdtemp(prefix="fleet-sim-"))
        seed = config.seed if config.seed is not None else int.from_bytes(os.urandom(4), "little")
        kinds = [get_profile(name) for name in dict.fromkeys(config.profile_names())]
        asyncio.get_running_loop().run_in_executor(None, runtime.warm, kinds)  # RUNTIME answers, off the loop
        try:
            for index, profile in enumerate(config.profile_names()):
                engine = make_engine(
                    profile, state / f"board{index:02d}",
                    name=f"{config.seed}:{index}" if config.seed is not None else None,
                    seed=seed + index, max_lag_us=MAX_LAG_US,
                )  # fmt: skip
                if config.model is not None and (engine.store.blank or not config.model_if_blank):
                    program_model(engine, config.model, name=config.model_name, version=config.model_version)
                if config.hostile or config.clone_uid is not None:
                    from fleet.sim.hostile import HostileEngine

                    engine = HostileEngine.wrapping(engine, config.hostile, uid=config.clone_uid)
                if config.transport == "memory":
                    ports = MemoryPorts(f"sim{index}")
                    self.memory_ports.append(ports)
                    open_port = ports
                else:
                    open_port = PtyTransport
                board = VirtualBoard(engine, open_port, config.link, seed=seed + index,
                                     on_port_change=self._registered if config.register else None)  # fmt: skip
                self.boards.append(board)
                await board.start()
        except BaseException:
            await self.stop()
            raise
        return self.boards

    async def stop(self) -> None:
        """Unplug every board, remove registry entries and the temporary flash."""
        for board in self.boards:
            await board.stop()
            if self.config.register:
                registry.unregister(self._registry_key(board), self.config.registry_dir)
        if self.config.register:
            registry.remove_if_empty(self.config.registry_dir)
        if self._temp_state is not None:
            shutil.rmtree(self._temp_state, ignore_errors=True)
            self._temp_state = None

    def _registered(self, board: VirtualBoard) -> None:
        # An unplugged board keeps an entry without a port: it is still part of the fleet
        # (`fleet deploy --to all` waits for it or says it is unreachable), and its old PTY
        # number may already belong to someone else's terminal, which must not be probed.
        entry = registry.RegisteredBoard(port=board.port or "", uid=board.uid, profile=board.profile, pid=os.getpid(),
                                         baud=board.link.baud)  # fmt: skip
        registry.register(entry, self.config.registry_dir, key=self._registry_key(board))

    def _registry_key(self, board: VirtualBoard) -> str:
        # Unique per board even when boards share a uid (`clone_uid`, or two farms cloning one).
        return f"{board.uid}-{os.getpid()}-{id(board):x}"
