"""Deploy reliability under line noise, unplugs and resets: no board ever ends corrupt.

    python tools/reliability_deploy.py --deploys 100 --seed 1

Virtual boards on PTYs with bit errors (BER), random unplugs (the port vanishes and comes
back on a new one) and random watchdog resets. Deploys alternate between two models, so
every deploy replaces something. After each deploy the board's own flash is checked:

- the model it boots is either the one it had or the new one, and the bytes in that slot
  hash to the sha256 the board reports (never a half-written or corrupt model),
- a deploy reported `confirmed` really left the new model active,
- nothing is left in test (PENDING) or half-received in the slot that boots.

Returns the outcome counts; any violation raises AssertionError with the details.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from fleet.config import Defaults, FleetConfig
from fleet.connect import connect_port
from fleet.deploy.board_deploy import BoardDeploy, DeployOptions, DeployTarget
from fleet.deploy.model_file import ModelFile, load_model_file
from fleet.errors import PortNotFound
from fleet.models.bundled import bundled_model
from fleet.protocol import SlotState
from fleet.sim.faults import FaultSpec
from fleet.sim.farm import FarmConfig, SimFarm
from fleet.sim.runner import LinkConfig, VirtualBoard

# At 921600 a whole 4 KiB window crosses the line in 45 ms: half a second means lost.
CONFIG = FleetConfig(defaults=Defaults(request_timeout_s=0.5))


@dataclass
class ReliabilityReport:
    deploys: int = 0
    outcomes: Counter = field(default_factory=Counter)
    unplugs: int = 0
    resets: int = 0
    seconds: float = 0.0


def _target(board: VirtualBoard, name: str) -> DeployTarget:
    async def connect():  # noqa: ANN202
        port = board.port
        if port is None:
            raise PortNotFound(f"{name} is unplugged")
        return await connect_port(port, 921600, CONFIG, name)

    return DeployTarget(name, board.uid, board.port or "?", connect)


def _check_board(board: VirtualBoard, before: bytes, new: bytes, outcome: str, where: str) -> None:
    store = board.engine.store
    active = store.active
    assert active is not None, f"{where}: the board boots no model after a deploy ({outcome})"
    slot = store.slots[active]
    assert slot.state == SlotState.ACTIVE, f"{where}: boot slot {active} is {slot.state.name}"
    data = store.read(active)
    assert len(data) == slot.size, f"{where}: boot slot holds {len(data)} of {slot.size} bytes"
    assert hashlib.sha256(data).digest() == slot.sha256, f"{where}: boot slot bytes do not match their sha256"
    assert slot.sha256 in (before, new), f"{where}: boots a model that is neither the old nor the new one"
    if outcome == "confirmed":
        assert slot.sha256 == new, f"{where}: reported confirmed but boots the old model"


async def run(deploys: int, seed: int, boards: int = 4, ber: float = 1e-4, unplug_every: float = 4.0,
              reset_every: float = 5.0, models: tuple[ModelFile, ModelFile] | None = None) -> ReliabilityReport:  # fmt: skip
    """Run `deploys` deploys spread over `boards` boards; see the module doc."""
    if models is None:
        models = (load_model_file(bundled_model("sine")), load_model_file(bundled_model("gesture")))
    faults = FaultSpec(ber=ber, disconnect_every=unplug_every, reconnect_after=0.3, reboot_every=reset_every)
    options = DeployOptions(health_inferences=2, health_timeout_s=3.0, reconnects=20, reconnect_window_s=10.0)
    report = ReliabilityReport()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fleet-reliability-") as tmp:
        config = FarmConfig(boards=boards, profiles=("esp32s3",), seed=seed, state_dir=Path(tmp), model=models[0].data,
                            model_name="start", link=LinkConfig(baud=921600, turnaround_us=1000, faults=faults))  # fmt: skip
        async with SimFarm(config) as farm:
            rounds = (deploys + boards - 1) // boards

            async def one(board: VirtualBoard, index: int) -> None:
                for r in range(rounds):
                    if r * boards + index >= deploys:
                        return
                    store = board.engine.store
                    before = store.slots[store.active].sha256 if store.active is not None else b""
                    model = models[1] if before == models[0].sha256 else models[0]
                    name = f"board{index}"
                    result = await BoardDeploy(_target(board, name), model, options, lambda e: None).run()
                    _check_board(board, before, model.sha256, result.outcome, f"{name} deploy {r}")
                    report.outcomes[result.outcome] += 1
                    report.deploys += 1

            await asyncio.gather(*(one(b, i) for i, b in enumerate(farm.boards)))
            report.unplugs = sum(b.stats.unplugs for b in farm.boards)
            report.resets = sum(b.stats.resets for b in farm.boards)
    report.seconds = time.monotonic() - start
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description="Seeded deploy reliability run on faulty virtual boards.")
    parser.add_argument("--deploys", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--boards", type=int, default=4)
    parser.add_argument("--ber", type=float, default=1e-4)
    args = parser.parse_args()
    os.environ.setdefault("FLEET_CACHE_DIR", tempfile.mkdtemp(prefix="fleet-cache-"))
    report = asyncio.run(run(args.deploys, args.seed, args.boards, args.ber))
    outcomes = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(report.outcomes.items()))
    print(f"{report.deploys} deploys on {args.boards} boards at BER {args.ber:g} with {report.unplugs} unplugs and "
          f"{report.resets} resets in {report.seconds:.0f} s: {outcomes}; 0 corrupt boards")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
