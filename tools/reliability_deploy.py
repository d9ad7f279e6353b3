"""Deploy reliability: what `fleet deploy` reports is what every board runs, under every fault.

    python tools/reliability_deploy.py --deploys 200 --seed 1

Virtual boards (run by this process and registered as `fleet sim` registers its own) on
PTYs at 921600 baud, with bit errors (BER), random unplugs (the port vanishes and comes
back on a new one) and random watchdog resets. `fleet deploy MODEL --to all --json` runs in
a process of its own, again and again, alternating two models; at random moments it is
killed with SIGKILL; a `fleet monitor` holding one board (a random one, started and stopped
at random) runs alongside. A deploy here is one board in one run of `fleet deploy`.

After every run each board's flash is held against what the run said about that board:

- confirmed, skipped: the board boots the new model, confirmed, nothing on trial;
- rolled back: it boots the model it booted before, nothing on trial;
- failed, refused, busy, unreachable, stopped: it boots the model it booted before
  (whatever may be on trial, the new model was not confirmed);
- unknown: it boots the old or the new model (fleet said it could not tell);
- always: the slot it boots holds exactly the bytes of the sha256 it reports, and that is
  the old or the new model (never a corrupt or half-written one);
- every board is in the plan and, unless the run was killed, has an outcome: none is left
  out silently.

After a kill the same model is deployed again, so the next run must finish (or undo) what
the killed one left on trial. Any violation raises AssertionError with the details.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from fleet.deploy.model_file import ModelFile, load_model_file
from fleet.discovery import default_name
from fleet.models.bundled import bundled_model
from fleet.protocol import SlotState
from fleet.sim.faults import FaultSpec
from fleet.sim.farm import FarmConfig, SimFarm
from fleet.sim.virtual_board import LinkConfig, VirtualBoard

REPO = Path(__file__).resolve().parents[1]
# At 921600 a whole 4 KiB window crosses the line in 45 ms: half a second means lost.
DEVICES_TOML = "[defaults]\nbaud = 921600\nrequest_timeout_s = 0.5\n"
DEPLOY_ARGS = ("--to", "all", "--json", "--strategy", "all", "--max-failures", "0", "--health-inferences", "2",
               "--health-timeout", "4", "--reconnect-window", "8")  # fmt: skip
UNCHANGED = frozenset({"failed", "refused", "busy", "unreachable", "stopped"})


@dataclass
class ReliabilityReport:
    deploys: int = 0  # boards in runs of `fleet deploy`, killed runs included
    runs: int = 0
    kills: int = 0
    monitors: int = 0  # `fleet monitor` processes started
    outcomes: Counter = field(default_factory=Counter)  # reported outcomes ("no report" for a killed run)
    reasons: list[str] = field(default_factory=list)  # why: every failed, unknown, unreachable outcome
    unplugs: int = 0
    resets: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Flash:
    """What a board's flash says: the confirmed (boot) model and the one on trial, if any."""

    boot: bytes
    trial: bytes | None

    @classmethod
    def of(cls, board: VirtualBoard) -> Flash:
        store = board.engine.store
        boot = store.slots[store.active].sha256 if store.active is not None else b""
        pending = store.pending
        return cls(boot, store.slots[pending].sha256 if pending is not None else None)


def check_integrity(board: VirtualBoard, allowed: tuple[bytes, ...], where: str) -> None:
    """The slot the board boots holds exactly the bytes of its sha256, one of `allowed`."""
    store = board.engine.store
    active = store.active
    assert active is not None, f"{where}: the board boots no model"
    slot = store.slots[active]
    assert slot.state == SlotState.ACTIVE, f"{where}: boot slot {active} is {slot.state.name}"
    data = store.read(active)
    assert len(data) == slot.size, f"{where}: boot slot holds {len(data)} of {slot.size} bytes"
    assert hashlib.sha256(data).digest() == slot.sha256, f"{where}: boot slot bytes do not match their sha256"
    assert slot.sha256 in allowed, f"{where}: boots a model that is neither the old nor the new one"


def check_report(outcome: str | None, before: Flash, after: Flash, new: bytes, where: str) -> None:
    """What the deploy said about the board (None: nothing, it was killed) against its flash."""
    said = f"{where}: reported {outcome}, but the board boots {after.boot.hex()[:8]} (trial " \
           f"{after.trial.hex()[:8] if after.trial else 'none'}); before {before.boot.hex()[:8]}, new {new.hex()[:8]}"
    if outcome in ("confirmed", "skipped"):
        assert after.boot == new and after.trial is None, said
    elif outcome == "rolled_back":
        assert after.boot == before.boot and after.trial is None, said
    elif outcome in UNCHANGED:
        assert after.boot == before.boot, said
    else:
        assert outcome in ("unknown", None), f"{where}: unexpected outcome {outcome!r}"
        assert after.boot in (before.boot, new), said


class Run:
    """One `fleet deploy` process, read line by line, maybe killed."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: list[dict] = []
        self.killed = False

    async def finish(self, kill_after: float | None, limit_s: float = 300.0) -> None:
        reader = asyncio.get_running_loop().create_task(self._read())
        if kill_after is not None:
            done, _ = await asyncio.wait([reader], timeout=kill_after)
            if not done and self.proc.returncode is None:
                self.proc.send_signal(signal.SIGKILL)
                self.killed = True
        await asyncio.wait_for(reader, limit_s)
        await self.proc.wait()

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            self.events.append(json.loads(line))

    def outcomes(self) -> dict[str, str]:
        """Each board's final event, by uid."""
        finals = {"confirmed", "skipped", "rolled_back", "failed", "unknown", "refused", "busy", "unreachable",
                  "stopped"}  # fmt: skip
        return {e["uid"]: e["event"] for e in self.events if e["event"] in finals and e.get("uid")}


class Monitor:
    """At most one `fleet monitor --to UID` at a time, started and stopped at random."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd
        self.proc: asyncio.subprocess.Process | None = None
        self.started = 0

    async def toggle(self, board: VirtualBoard) -> None:
        if self.proc is not None:
            await self.stop()
            return
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fleet", "monitor", "--to", board.uid, "--json", env=self.env, cwd=self.cwd,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        self.started += 1

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def _env(tmp: Path) -> dict[str, str]:
    (tmp / "devices.toml").write_text(DEVICES_TOML, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "FLEET_CONFIG"}
    path = [str(REPO), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    return env | {
        "PYTHONPATH": os.pathsep.join(path), "FLEET_SIM_REGISTRY": str(tmp / "registry"),
        "FLEET_LOCK_DIR": str(tmp / "locks"), "FLEET_CONFIG": str(tmp / "devices.toml"),
        "FLEET_CACHE_DIR": str(tmp / "cache"),  # boards other commands saw lately are not this fleet
    }  # fmt: skip


async def run(deploys: int, seed: int, boards: int = 4, ber: float = 1e-4, unplug_every: float = 4.0,
              reset_every: float = 5.0, kill_rate: float = 0.25, monitor_rate: float = 0.3,
              models: tuple[ModelFile, ModelFile] | None = None) -> ReliabilityReport:  # fmt: skip
    """Run `fleet deploy` until `deploys` board deploys are done; see the module doc."""
    if models is None:
        models = (load_model_file(bundled_model("sine")), load_model_file(bundled_model("gesture")))
    rng = random.Random(seed)
    faults = FaultSpec(ber=ber, disconnect_every=unplug_every, reconnect_after=0.3, reboot_every=reset_every)
    report = ReliabilityReport()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fleet-reliability-") as name:
        tmp = Path(name)
        env = _env(tmp)
        config = FarmConfig(boards=boards, profiles=("esp32s3",), seed=seed, state_dir=tmp / "flash",
                            model=models[0].data, model_name="start", register=True, registry_dir=tmp / "registry",
                            link=LinkConfig(baud=921600, turnaround_us=1000, faults=faults))  # fmt: skip
        monitor = Monitor(env, tmp)
        async with SimFarm(config) as farm:
            names = {default_name(b.profile, b.uid) for b in farm.boards}
            model = models[1]
            try:
                while report.deploys < deploys:
                    if rng.random() < monitor_rate:
                        await monitor.toggle(rng.choice(farm.boards))
                    before = {b.uid: Flash.of(b) for b in farm.boards}
                    proc = await asyncio.create_subprocess_exec(
                        sys.executable, "-m", "fleet", "deploy", str(model.path), *DEPLOY_ARGS, env=env, cwd=tmp,
                        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
                    )  # fmt: skip
                    deploy = Run(proc)
                    await deploy.finish(rng.uniform(0.5, 5.0) if rng.random() < kill_rate else None)
                    where = f"run {report.runs} ({model.name})"
                    _check_run(deploy, farm.boards, names, before, models, model, where, report)
                    report.runs += 1
                    report.kills += deploy.killed
                    if not deploy.killed:  # after a kill, the same model again: finish what it started
                        model = models[0] if model is models[1] else models[1]
            finally:
                await monitor.stop()
            report.monitors = monitor.started
            report.unplugs = sum(b.stats.unplugs for b in farm.boards)
            report.resets = sum(b.stats.resets for b in farm.boards)
    report.seconds = time.monotonic() - start
    return report


def _check_run(deploy: Run, boards: list[VirtualBoard], names: set[str], before: dict[str, Flash],
               models: tuple[ModelFile, ModelFile], model: ModelFile, where: str, report: ReliabilityReport) -> None:  # fmt: skip
    plan = next((e for e in deploy.events if e["event"] == "plan"), None)
    if plan is not None:
        assert set(plan["boards"]) == names, f"{where}: planned {plan['boards']}, the fleet is {sorted(names)}"
    elif not deploy.killed:
        raise AssertionError(f"{where}: `fleet deploy` exited {deploy.proc.returncode} without a plan")
    outcomes = deploy.outcomes()
    report.reasons += [f"{e['event']}: {e.get('reason')}" for e in deploy.events
                       if e["event"] in ("failed", "unknown", "unreachable")]  # fmt: skip
    if not deploy.killed:
        missing = [b.uid for b in boards if b.uid not in outcomes]
        assert not missing, f"{where}: no outcome reported for {missing}"
        assert deploy.events[-1]["event"] == "done", f"{where}: no summary"
    for board in boards:
        outcome = outcomes.get(board.uid)
        label = f"{where}, board {board.uid}"
        check_integrity(board, (before[board.uid].boot, model.sha256), label)
        check_report(outcome, before[board.uid], Flash.of(board), model.sha256, label)
        report.outcomes[outcome or "no report"] += 1
        report.deploys += 1


def main() -> int:
    parser = argparse.ArgumentParser(description="Seeded deploy reliability run on faulty virtual boards.")
    parser.add_argument("--deploys", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--boards", type=int, default=4)
    parser.add_argument("--ber", type=float, default=1e-4)
    parser.add_argument("--kill-rate", type=float, default=0.25, help="share of runs killed with SIGKILL")
    parser.add_argument("--monitor-rate", type=float, default=0.3, help="chance per run to start/stop fleet monitor")
    args = parser.parse_args()
    os.environ.setdefault("FLEET_CACHE_DIR", tempfile.mkdtemp(prefix="fleet-cache-"))
    report = asyncio.run(run(args.deploys, args.seed, args.boards, args.ber, kill_rate=args.kill_rate,
                             monitor_rate=args.monitor_rate))  # fmt: skip
    outcomes = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(report.outcomes.items()))
    print(f"{report.deploys} deploys in {report.runs} runs of `fleet deploy --to all` on {args.boards} boards at BER "
          f"{args.ber:g} with {report.unplugs} unplugs and {report.resets} resets, {report.kills} runs killed "
          f"(SIGKILL), {report.monitors} `fleet monitor` processes alongside, in {report.seconds:.0f} s: {outcomes}; "
          "0 wrong reports, 0 corrupt boards, 0 boards left out")  # fmt: skip
    for reason in report.reasons:
        print(f"  {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
