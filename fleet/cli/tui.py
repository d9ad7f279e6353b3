"""`fleet tui`: the terminal UI over your boards.

`fleet tui` shows every board discovery finds (devices.toml, known USB IDs, `fleet sim`
boards), live; `--replay FILE` plays a recording instead. (`fleet demo`, the UI over virtual
boards, is in fleet/cli/sim.py: only that module starts the simulator.) Textual is imported
only when a command runs (the CLI's other commands never load it).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from fleet.config import load_config
from fleet.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    tui = sub.add_parser("tui", help="live terminal UI for the whole fleet (plain `fleet` opens it too)",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    tui.add_argument("--to", default="all", metavar="TARGET", help="only these boards (names, tags, groups, uids)")
    tui.add_argument("--replay", type=Path, metavar="FILE", help="play a recording instead of live boards")
    tui.add_argument("--speed", type=float, default=1.0, help="replay speed (default 1.0: as recorded)")
    tui.add_argument("--models", type=Path, action="append", default=[], metavar="DIR",
                     help="also offer the .tflite files in DIR in the deploy dialog (repeatable)")  # fmt: skip
    tui.set_defaults(func=run_tui)


def run_tui(args: argparse.Namespace) -> int:
    from fleet.tui.backend import LiveBackend

    if args.replay is not None:
        return _run_replay(args.replay, args.speed)
    backend = LiveBackend(load_config(args.config), target=args.to, model_dirs=tuple(args.models))
    return asyncio.run(run_app(backend))


async def run_app(backend) -> int:  # noqa: ANN001 - fleet.tui.backend.Backend, imported lazily
    """The TUI over `backend` until the user quits; then the backend stops."""
    from fleet.tui.app import FleetApp

    try:
        await FleetApp(backend).run_async()
    finally:
        await backend.stop()  # boards disconnected, virtual ones unplugged, recording closed
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
