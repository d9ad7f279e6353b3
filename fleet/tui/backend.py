"""What the TUI runs on, its backend: the boards devices.toml and discovery find (`fleet tui`),
or a farm of virtual boards started for the demo (`fleet demo`). No Textual here.

A backend owns a `FleetManager`, starts it (the app does so in a worker, so the screen is up
while boards connect) and stops it when the app exits. The demo backend first starts the
virtual boards `fleet demo` made for it (registered like `fleet sim` does, so discovery
finds them) and offers the deploy the demo opens with. It never imports the simulator:
only `fleet sim`'s command module does (the layer contracts in pyproject.toml).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from fleet.config import FleetConfig
from fleet.connect import Plugins, memory_connector
from fleet.manager import DEFAULT_STREAMS, FleetManager, StreamConfig
from fleet.meters.attach import attach_meters, meter_note
from fleet.meters.discovery import MeterCandidate
from fleet.models.bundled import bundled_model
from fleet.tui.model_choices import ModelChoice, model_choices


@dataclass(frozen=True, slots=True)
class DeployRequest:
    """A deploy the user confirmed (or the demo starts with)."""

    model: Path
    targets: tuple[str, ...]  # board names
    strategy: Literal["all", "canary"] = "canary"
    max_latency_ms: float | None = None

    @property
    def target(self) -> str:
        return ",".join(self.targets)


class LiveBackend:
    """The real fleet: devices.toml, discovery, hotplug."""

    title = "fleet"
    hint: str | None = None
    initial_deploy: DeployRequest | None = None

    def __init__(self, config: FleetConfig, *, target: str = "all", model_dirs: tuple[Path, ...] = (),
                 streams: StreamConfig = DEFAULT_STREAMS) -> None:  # fmt: skip
        self.config = config
        self.manager = FleetManager(config, target=target, streams=streams)
        self.model_dirs = model_dirs
        self.meters = None  # a fleet.meters.session.MeterSet once started, if any meter feeds a board

    @property
    def latency_budget_ms(self) -> float | None:
        return self.config.rollout.max_latency_ms

    def models(self) -> list[ModelChoice]:
        return model_choices(self.model_dirs)

    async def start(self) -> None:
        await self.manager.start()
        # The meters feeding managed boards (devices.toml [[meters]], or `fleet sim --meter`'s):
        # their power, energy and current trace reach the screens as the boards' events. Why
        # a meter is not read goes to the log pane (stderr is the screen).
        self.meters = await attach_meters(self.manager, report=self._meter_note)

    def _meter_note(self, candidate: MeterCandidate, why: str) -> None:
        self.manager.publish(meter_note(candidate, why))

    async def stop(self) -> None:
        if self.meters is not None:
            await self.meters.stop()
        await self.manager.stop()


# Measured on the virtual boards (latency from the model's MACs and the profile's clock):
# gesture takes 0.08 ms on the ESP32-S3, 0.11 on the STM32F746, 0.44 on the nRF52840 and
# 0.73 on the Pico's Cortex-M0+. A 0.5 ms budget passes all but the Pico. See docs/tui.md.
DEMO_BUDGET_MS = 0.5
DEMO_HINT = (
    "Demo: the boards run the bundled sine model. Press d, enter on gesture, add the pico to the selected "
    "esp32s3 (↓ ↓ space), keep the 0.5 ms latency budget, ctrl+d: the ESP32-S3 (0.08 ms per inference) "
    "confirms; the Pico, a Cortex-M0+ (0.73 ms), fails its health check and rolls back to sine. ? for help."
)


@dataclass
class DemoOptions:
    """`fleet demo` knobs (the farm's and the backend's); tests use the memory transport (no PTYs, no pacing)."""

    boards: int = 4
    profiles: tuple[str, ...] = ("mixed",)
    seed: int | None = None
    baud: int | None = 921_600
    transport: Literal["pty", "memory"] = "pty"
    registry_dir: Path | None = None
    model: str = "sine"
    deploy_first: bool = True
    model_dirs: tuple[Path, ...] = field(default_factory=tuple)
    hostile: tuple[str, ...] = ()  # boards that lie (fleet.sim.hostile): for tests of the UI's defences


class Farm(Protocol):
    """Virtual boards (`fleet.sim.farm.SimFarm`): started and stopped with the backend. On
    memory pipes, each board's plug-ins arrive in `memory_ports`; on PTYs discovery finds them."""

    memory_ports: list[Plugins]

    async def start(self) -> object: ...

    async def stop(self) -> None: ...


class DemoBackend:
    """Virtual boards on PTYs (or memory pipes), a manager over them, and the opening deploy."""

    title = "fleet demo"
    hint = DEMO_HINT
    latency_budget_ms = DEMO_BUDGET_MS

    def __init__(self, options: DemoOptions, farm: Farm, config: FleetConfig | None = None) -> None:
        self.options = options
        self.config = config or FleetConfig()
        self.farm = farm
        # In memory there is nothing to discover: boards are added with their pipes below.
        self.manager = FleetManager(self.config, discover=options.transport == "pty", rescan_interval_s=1.0)
        path = bundled_model(options.model)
        self.initial_deploy = DeployRequest(path, ("all",), "all") if options.deploy_first else None

    def models(self) -> list[ModelChoice]:
        return model_choices(self.options.model_dirs)

    async def start(self) -> None:
        await self.farm.start()
        await self.manager.start()
        for ports in self.farm.memory_ports:
            await self.manager.add_board(memory_connector(ports))

    async def stop(self) -> None:
        try:
            await self.manager.stop()
        finally:
            await self.farm.stop()


Backend = LiveBackend | DemoBackend
