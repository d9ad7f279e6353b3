"""`fleet replay FILE`: play a `fleet monitor --record` session back through the monitor view.

Events are paced as they were recorded (`--speed 4` plays four times faster; `--fast` as
fast as the output takes them). `--json` prints the very lines `fleet monitor --json`
printed. A recording whose writer was killed, or whose compressed data is damaged, plays up
to its last good event, then says where it stops and why, and exits 1; a file that is not
a recording exits 1 with what is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from fleet.cli.main import report
from fleet.cli.monitor import MonitorView, footer_text, install_stop_signals, raise_failed, stop_on_failure
from fleet.errors import ConfigError, RecordingError
from fleet.telemetry.recording import open_recording
from fleet.telemetry.replay import ReplaySource


async def _replay(args: argparse.Namespace) -> int:
    recording = open_recording(args.file)
    source = ReplaySource(recording, speed=None if args.fast else args.speed)
    view = MonitorView(sys.stdout, json_lines=args.json)
    consumer = source.subscribe(maxsize=4096, name="replay")
    stop = asyncio.Event()
    signals = install_stop_signals(stop)
    pump = asyncio.create_task(view.pump(consumer))
    draw = asyncio.create_task(view.draw_forever(lambda: source.boards.values(), consumer,
                                                 lambda: footer_text(consumer)))  # fmt: skip
    play = asyncio.create_task(source.run())
    stopper = asyncio.create_task(stop.wait())
    code = 0
    try:
        stop_on_failure(stop, [pump, draw])  # stdout closed (`| head`): play would wait for the pump
        await asyncio.wait({play, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if play.done():
            try:
                play.result()
            except RecordingError as exc:  # cut, damaged or garbled after the events played
                await pump
                report(exc)
                code = 1
        else:
            play.cancel()
    finally:
        for task in (draw, stopper, play):
            task.cancel()
        source.hub.close()
        await asyncio.gather(pump, draw, stopper, play, return_exceptions=True)
        loop = asyncio.get_running_loop()
        for sig in signals:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
    raise_failed([pump, draw])
    if not await view.finish(source.boards.values(), consumer, footer_text(consumer)):
        code = 1
    return code


def run(args: argparse.Namespace) -> int:
    if args.speed <= 0:
        raise ConfigError(f"--speed {args.speed}: a factor > 0 expected")
    return asyncio.run(_replay(args))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="play a recorded monitor session back", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("file", metavar="FILE", help="a recording made with `fleet monitor --record FILE`")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument("--speed", type=float, default=1.0, metavar="X", help="play X times as fast (default 1)")
    pace.add_argument("--fast", action="store_true", help="play as fast as the output takes it")
    p.add_argument("--json", action="store_true", help="one JSON event per line, as `fleet monitor --json` printed")
    p.set_defaults(func=run)
