"""`fleet sim`: run virtual boards on pseudo-terminals until Ctrl-C; `fleet demo`: the TUI over them.

Prints each board's port, uid and profile (a table, or one JSON line per board with
`--json`, and another whenever a board's port changes under fault injection), and
registers the boards so `fleet scan` in another terminal finds them. Boards boot running
the bundled sine model (so `fleet monitor` has results to show at once) unless given
`--model FILE`, or `--no-model` for the blank flash a board has before its first deploy.
With `--firmware`
the boards are the C firmware instead: POSIX processes or QEMU machines
(fleet/sim/firmware_boards.py), registered the same way.

`fleet demo` starts virtual boards of mixed profiles on pseudo-terminals, deploys the
bundled sine model to them and opens the terminal UI on them: press ? there for the keys
and the deploy-and-rollback story to try. This module is the only one outside fleet/sim
that starts virtual boards (the layer contracts in pyproject.toml hold it).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from fleet.cli.output import print_json, print_table
from fleet.config import load_config
from fleet.errors import ConfigError, FirmwareBoardError
from fleet.models.bundled import bundled_model
from fleet.profiles import load_profiles

if TYPE_CHECKING:
    from fleet.sim.farm import SimFarm
    from fleet.tui.backend import DemoOptions


# What a virtual board runs when `fleet sim` is given no --model: the model `fleet demo` deploys.
DEFAULT_MODEL = "sine"


class SimBoardLine(BaseModel):
    """One board as `fleet sim --json` prints it; `port` is null while the board is unplugged."""

    port: str | None
    uid: str
    profile: str
    baud: int | None
    pid: int
    meter_port: str | None = None  # --meter: the emulated meter in this board's supply
    meter: str | None = None  # its power source label, e.g. "meter:ppk2 PPK1A2B3C4D"


DEMO_HELP = """Virtual boards of mixed profiles on pseudo-terminals, the bundled sine model deployed to
them, and the terminal UI over them: press ? there for the keys and the deploy-and-rollback
story to try."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sim",
        help="run virtual boards on pseudo-terminals",
        description="Run virtual boards that speak protocol v1 on pseudo-terminals, with real TFLite Micro "
        "inference, until Ctrl-C. Other fleet commands find them through the registry.",
    )
    p.add_argument("--boards", type=int, default=1, metavar="N", help="how many boards (default 1)")
    p.add_argument(
        "--profile", action="append", metavar="P",
        help=f"board profile, repeatable (cycled over the boards), or 'mixed'; one of {', '.join(load_profiles())} "
        "(default nano33ble)",
    )  # fmt: skip
    p.add_argument("--baud", type=int, help="line rate the wire model paces bytes at (default 115200)")
    p.add_argument("--turnaround-ms", type=float, help="device response latency (default 1 ms)")
    p.add_argument(
        "--faults", default="", metavar="SPEC",
        help="fault injection, e.g. ber=1e-5,drop=1e-4,disconnect_every=30,reconnect_after=2,reboot_every=60",
    )  # fmt: skip
    p.add_argument("--seed", type=int, help="makes uids, inputs and faults reproducible")
    p.add_argument("--state", type=Path, metavar="DIR", help="keep the boards' flash here across runs "
                   "(default: a temporary directory removed on exit)")  # fmt: skip
    boot = p.add_mutually_exclusive_group()
    boot.add_argument("--model", type=Path, metavar="FILE",
                      help=f"program this .tflite into every board's slot 0 (default: the bundled {DEFAULT_MODEL} "
                      "model, into boards whose flash is blank)")  # fmt: skip
    boot.add_argument("--no-model", action="store_true",
                      help="boot every board with blank flash, no model running (as a board fresh from the factory)")
    p.add_argument("--meter", choices=("ppk2", "lpm01a"),
                   help="put an emulated power meter on its own PTY in each board's supply (docs/power.md)")
    p.add_argument("--json", action="store_true", help="one JSON line per board (and per port change)")
    p.add_argument("--hostile", default="", metavar="KIND[,KIND...]",
                   help="boards that break the protocol, to test the host: max-payload, active-slot, slot-state, "
                   "slot-size, received, long-string, bad-utf8, control, bad-events, malformed, oversize, "
                   "begin-offset, ack-backwards, ack-beyond, silent (docs/virtual-boards.md)")  # fmt: skip
    p.add_argument("--clone-uid", metavar="HEX",
                   help="every board claims this uid, another board's: fleet must flag the uid as a conflict "
                   "(docs/virtual-boards.md)")  # fmt: skip
    p.add_argument(
        "--firmware", choices=["posix", "qemu-m4", "qemu-m3"],
        help="run the C firmware instead of virtual boards: POSIX processes, or QEMU mps2-an386 (Cortex-M4, "
        "TFLM with CMSIS-NN) or lm3s6965evb (Cortex-M3, reference runner); built with make when needed",
    )  # fmt: skip
    p.set_defaults(func=run)

    demo = sub.add_parser("demo", help="virtual boards + a deployed model + the terminal UI, in one command",
                          description=DEMO_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    demo.add_argument("--boards", type=int, default=4, metavar="N", help="how many virtual boards (default 4)")
    demo.add_argument("--profile", action="append", metavar="P",
                      help=f"board profile, repeatable, or 'mixed' (default): "
                      f"{', '.join(load_profiles())}")  # fmt: skip
    demo.add_argument("--seed", type=int, help="reproducible uids and inputs")
    demo.add_argument("--baud", type=int, default=115_200, help="virtual line rate (default 115200)")
    demo.add_argument("--no-deploy", action="store_true", help="do not deploy the example model at start")
    demo.add_argument("--models", type=Path, action="append", default=[], metavar="DIR",
                      help="offer the .tflite files in DIR in the deploy dialog (default: ../shared/models if present)")
    demo.set_defaults(func=run_demo)


def run(args: argparse.Namespace) -> int:
    from fleet.sim.farm import FarmConfig
    from fleet.sim.faults import FaultSpec
    from fleet.sim.hostile import parse_kinds, parse_uid
    from fleet.sim.virtual_board import LinkConfig

    if args.boards < 1:
        raise ConfigError(f"--boards {args.boards}: at least 1 board")
    if args.firmware:
        return _run_firmware(args)
    args.baud = 115_200 if args.baud is None else args.baud
    args.turnaround_ms = 1.0 if args.turnaround_ms is None else args.turnaround_ms
    if args.baud <= 0:
        raise ConfigError(f"--baud {args.baud}: a positive line rate is expected")
    profiles = _profiles(args.profile or ["nano33ble"])
    model, name, version = None, "", ""
    if not args.no_model:
        path = args.model or bundled_model(DEFAULT_MODEL)
        try:
            model = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"--model {path}: {exc.strerror}") from None
        # Boards report the name and version a deploy would have given them: the manifest's.
        from fleet.models.manifest import load_manifest_for

        manifest = load_manifest_for(path, model)
        name, version = (manifest.name, manifest.version) if manifest else (path.stem, "")
    config = FarmConfig(
        boards=args.boards, profiles=profiles, seed=args.seed, state_dir=args.state, model=model,
        model_name=name, model_version=version, model_if_blank=args.model is None,
        link=LinkConfig(baud=args.baud, turnaround_us=round(args.turnaround_ms * 1000),
                        faults=FaultSpec.parse(args.faults)),
        register=True, hostile=parse_kinds(args.hostile),
        clone_uid=parse_uid(args.clone_uid) if args.clone_uid is not None else None,
    )  # fmt: skip
    return asyncio.run(_serve(config, args.json, args.meter))


def _profiles(names: list[str]) -> tuple[str, ...]:
    known = set(load_profiles()) | {"mixed"}
    if unknown := [p for p in names if p not in known]:
        raise ConfigError(f"unknown board profile {unknown[0]!r}; known: {', '.join(sorted(known))}")
    return tuple(names)


def run_demo(args: argparse.Namespace) -> int:
    from fleet.cli.tui import run_app
    from fleet.tui.backend import DemoBackend, DemoOptions
    from fleet.tui.model_choices import shared_models_dir

    if args.boards < 1:
        raise ConfigError(f"--boards {args.boards}: at least 1 board")
    missing = [name for name in ("numpy", "tflite_micro") if importlib.util.find_spec(name) is None]
    if missing:  # virtual boards run real TFLite Micro inference
        raise ConfigError(f"fleet demo needs {' and '.join(missing)} for its virtual boards",
                          hint="pip install 'fleet[sim]'")  # fmt: skip
    profiles = _profiles(args.profile or ["mixed"])
    shared = shared_models_dir()
    dirs = tuple(args.models) or ((shared,) if shared is not None else ())
    options = DemoOptions(boards=args.boards, profiles=profiles, seed=args.seed, baud=args.baud,
                          deploy_first=not args.no_deploy, model_dirs=dirs)  # fmt: skip
    return asyncio.run(run_app(DemoBackend(options, demo_farm(options), load_config(args.config))))


def demo_farm(options: DemoOptions) -> SimFarm:
    """The virtual boards `options` ask for, not started yet (the demo backend starts them)."""
    from fleet.sim.farm import FarmConfig, SimFarm  # numpy + TFLM: only the simulator needs them
    from fleet.sim.virtual_board import LinkConfig

    return SimFarm(FarmConfig(
        boards=options.boards, profiles=options.profiles, seed=options.seed, transport=options.transport,
        link=LinkConfig(baud=options.baud), register=options.transport == "pty", registry_dir=options.registry_dir,
        hostile=options.hostile,
    ))  # fmt: skip


async def _serve(config, as_json: bool, meter_kind: str | None = None) -> int:  # noqa: ANN001 - FarmConfig
    from fleet.sim.farm import SimFarm

    farm = SimFarm(config)
    meters = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        boards = await farm.start()
        lines = [SimBoardLine(port=b.port, uid=b.uid, profile=b.profile, baud=b.link.baud, pid=os.getpid())
                 for b in boards]  # fmt: skip
        if meter_kind is not None:
            from fleet.sim.meters.sim_meters import SimMeters

            meters = SimMeters(meter_kind)
            for line, sim in zip(lines, meters.start(boards)):
                line.meter_port, line.meter = sim.port, f"meter:{sim.kind} {sim.serial}"
        if as_json:
            for line in lines:
                print_json(line)
        elif meters is not None:
            print_table(["PORT", "UID", "PROFILE", "BAUD", "METER PORT", "METER"],
                        [[x.port, x.uid, x.profile, x.baud, x.meter_port, x.meter] for x in lines])  # fmt: skip
        else:
            print_table(["PORT", "UID", "PROFILE", "BAUD"], [[x.port, x.uid, x.profile, x.baud] for x in lines])
            print(f"{len(lines)} virtual board(s) running; Ctrl-C to stop.", flush=True)
        closed: list[BrokenPipeError] = []

        def report_port(board) -> None:  # noqa: ANN001 - VirtualBoard
            if stop.is_set():
                return
            try:
                _report_port(board, as_json)
            except BrokenPipeError as exc:  # our reader went away (`| head`): stop, as other tools do
                closed.append(exc)
                stop.set()

        for board in boards:
            board.add_port_listener(report_port)
        await stop.wait()
    finally:
        if meters is not None:
            await meters.stop()
        await farm.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    if closed:
        raise closed[0]  # main() turns it into a quiet exit 141
    return 0


def _run_firmware(args: argparse.Namespace) -> int:
    from fleet.sim.firmware_boards import BAUD, FirmwareFarm, QemuMachine, target

    virtual_only = {"--profile": args.profile, "--baud": args.baud, "--turnaround-ms": args.turnaround_ms,
                    "--faults": args.faults, "--model": args.model, "--hostile": args.hostile,
                    "--clone-uid": args.clone_uid, "--meter": args.meter}  # fmt: skip
    if given := [name for name, value in virtual_only.items() if value]:
        raise ConfigError(f"{', '.join(given)}: for virtual boards only, not with --firmware")
    t = target(args.firmware)
    if args.state is not None and t.machine:
        raise ConfigError("--state: QEMU boards keep their slots in RAM; only --firmware posix keeps a state directory")
    farm = FirmwareFarm(t, args.boards, seed=args.seed, state_dir=args.state)
    # SIGTERM stops the boards as Ctrl-C does, also while make or QEMU is starting.
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if not args.json:
            print(f"building and starting {args.boards} {args.firmware} board(s)...", flush=True)
        boards = farm.start()
        try:  # from here on, Ctrl-C is how the user stops the boards: exit 0
            lines = [SimBoardLine(port=b.port, uid=b.uid.hex(), profile=t.kind, baud=BAUD, pid=os.getpid())
                     for b in boards]  # fmt: skip
            if args.json:
                for line in lines:
                    print_json(line)
            else:
                print_table(["PORT", "UID", "KIND", "PID"], [[x.port, x.uid, x.profile, b.proc.pid]
                                                            for x, b in zip(lines, boards)])  # fmt: skip
                what = "QEMU machine" if isinstance(boards[0], QemuMachine) else "process"
                print(f"{len(lines)} firmware board(s) running, one {what} each; Ctrl-C to stop.", flush=True)
            while not (dead := farm.dead()):
                time.sleep(0.2)
        except KeyboardInterrupt:
            return 0
        codes = ", ".join(f"{b.port} exited with {b.proc.returncode}" for b in dead)
        raise FirmwareBoardError(f"a firmware board stopped: {codes}")
    finally:
        for sig in previous:  # a second Ctrl-C must not cut the clean-up short
            signal.signal(sig, signal.SIG_IGN)
        farm.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _report_port(board, as_json: bool) -> None:  # noqa: ANN001 - VirtualBoard
    if as_json:
        print_json(SimBoardLine(port=board.port, uid=board.uid, profile=board.profile, baud=board.link.baud,
                                pid=os.getpid()))  # fmt: skip
    else:
        where = f"now on {board.port}" if board.port else "unplugged"
        print(f"{board.uid} ({board.profile}): {where}", flush=True)
