"""`fleet tui` and `fleet demo`: the terminal UI over your boards, or over virtual ones.

`fleet tui` shows every board discovery finds (devices.toml, known USB IDs, `fleet sim`
boards), live; `--replay FILE` plays a recording instead. `fleet demo` starts virtual boards
of mixed profiles on pseudo-terminals, deploys the bundled sine model to them and opens
the UI on them: press ? there for the keys and the deploy-and-rollback story to try.
Textual is imported only when a command runs (the CLI's other commands never load it).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
from pathlib import Path

from fleet.config import load_config
from fleet.errors import ConfigError
from fleet.profiles import load_profiles


def register(sub: argparse._SubParsersAction) -> None:
    tui = sub.add_parser("tui", help="live terminal UI for the whole fleet (plain `fleet` opens it too)",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    tui.add_argument("--to", default="all", metavar="TARGET", help="only these boards (names, tags, groups, uids)")
    tui.add_argument("--replay", type=Path, metavar="FILE", help="play a recording instead of live boards")
    tui.add_argument("--speed", type=float, default=1.0, help="replay speed (default 1.0: as recorded)")
    tui.add_argument("--models", type=Path, action="append", default=[], metavar="DIR",
                     help="also offer the .tflite files in DIR in the deploy dialog (repeatable)")  # fmt: skip
    tui.set_defaults(func=run_tui)

    demo = sub.add_parser("demo", help="virtual boards + a deployed model + the terminal UI, in one command",
                          description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
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


def run_tui(args: argparse.Namespace) -> int:
    from fleet.tui.session import LiveSession

    if args.replay is not None:
        return _run_replay(args.replay, args.speed)
    session = LiveSession(load_config(args.config), target=args.to, model_dirs=tuple(args.models))
    return asyncio.run(_run(session))


def run_demo(args: argparse.Namespace) -> int:
    from fleet.tui.models import shared_models_dir
    from fleet.tui.session import DemoOptions, DemoSession

    if args.boards < 1:
        raise ConfigError(f"--boards {args.boards}: at least 1 board")
    missing = [name for name in ("numpy", "tflite_micro") if importlib.util.find_spec(name) is None]
    if missing:  # virtual boards run real TFLite Micro inference
        raise ConfigError(f"fleet demo needs {' and '.join(missing)} for its virtual boards",
                          hint="pip install 'fleet[sim]'")  # fmt: skip
    profiles = tuple(args.profile or ["mixed"])
    known = set(load_profiles()) | {"mixed"}
    if unknown := [p for p in profiles if p not in known]:
        raise ConfigError(f"unknown board profile {unknown[0]!r}; known: {', '.join(sorted(known))}")
    shared = shared_models_dir()
    dirs = tuple(args.models) or ((shared,) if shared is not None else ())
    options = DemoOptions(boards=args.boards, profiles=profiles, seed=args.seed, baud=args.baud,
                          deploy_first=not args.no_deploy, model_dirs=dirs)  # fmt: skip
    return asyncio.run(_run(DemoSession(options, load_config(args.config))))


async def _run(session) -> int:  # noqa: ANN001 - fleet.tui.session.Session, imported lazily
    from fleet.tui.app import FleetApp

    try:
        await FleetApp(session).run_async()
    finally:
        await session.stop()  # boards disconnected, virtual ones unplugged, recording closed
    return 0


def _run_replay(path: Path, speed: float) -> int:
    from fleet.telemetry.recording import open_recording
    from fleet.telemetry.replay import ReplaySource
    from fleet.tui.app import FleetApp

    if speed <= 0:
        raise ConfigError(f"--speed {speed:g}: a positive speed is expected")
    source = ReplaySource(open_recording(path), speed=speed)
    FleetApp(replay=source, replay_path=path).run()
    return 0
