"""`fleet monitor`: live results, power and link health of every board, in one table.

On a terminal the table redraws in place about four times a second, one row per board;
piped, it prints a plain table every few seconds; with `--json`, one JSON event per line
(the same lines `fleet replay --json` prints for a recording of the session).
`--record FILE` writes every event to a session recording (see docs/telemetry.md).
`--mqtt URL` (or `[mqtt] url` in devices.toml) also publishes results, power, state and
logs per board to an MQTT broker (topics, passwords and TLS in docs/scaling-out.md).
Exit codes: 0 stopped after --duration, Ctrl-C or SIGTERM; 1 no board could be reached, the
recording failed, or standard output stopped being read (a full pipe does not stop Ctrl-C or
SIGTERM: the output is written by a thread of its own, fleet/cli/output_thread.py); 2 usage
or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from fleet.cli.main import report
from fleet.cli.output_thread import OutputThread
from fleet.config import load_config
from fleet.errors import ConfigError, FleetError
from fleet.export.mqtt import PASSWORD_ENV, exporter_from
from fleet.manager import DEFAULT_STREAMS, FleetManager
from fleet.meters.attach import attach_meters
from fleet.protocol import LogLevel, Stream, StreamConfig
from fleet.telemetry.fanout import Consumer
from fleet.telemetry.state import BoardState

HEADERS = ["BOARD", "STATE", "MODEL", "INF/S", "P50 ms", "P99 ms", "OUTPUT", "mW", "uJ/INF", "LINK ERR", "DROPS"]
TTY_INTERVAL_S = 0.25
PLAIN_INTERVAL_S = 2.0


def _fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def output_text(board: BoardState) -> str:
    """The last result: `label (score)`, the value of a one-output model, or `#index (score)`."""
    r = board.stats.last_result
    if r is None or r.score is None:
        return "-"
    if r.label is not None:
        return f"{r.label} ({r.score:.2f})"
    if len(r.values) == 1:
        return f"{r.score:.3f}"
    return f"#{r.top_index} ({r.score:.2f})"


def row(board: BoardState, consumer: Consumer | None) -> list[str]:
    """One table row (see HEADERS)."""
    s = board.stats
    link = board.link
    drops = (consumer.dropped_by_board.get(board.name, 0) if consumer else 0) + (link.events_dropped if link else 0)
    p50, p99 = s.latency_p50_us, s.latency_p99_us
    state = board.state if not board.resets else f"{board.state} ({board.resets} resets)"
    return [
        board.name, state, board.model_text, _fmt(s.inference_rate, 1),
        _fmt(p50 / 1000 if p50 is not None else None, 2), _fmt(p99 / 1000 if p99 is not None else None, 2),
        output_text(board), _fmt(s.power_mw, 1), _fmt(s.energy_per_inference_uj, 1),
        str(link.errors) if link else "-", str(drops),
    ]  # fmt: skip


def table_lines(boards: Iterable[BoardState], consumer: Consumer | None) -> list[str]:
    rows = [row(b, consumer) for b in sorted(boards, key=lambda b: b.name)]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(HEADERS)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADERS, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return lines


class MonitorView:
    """Renders a telemetry source: JSON lines, or the table (in place on a terminal)."""

    def __init__(self, stream: TextIO, *, json_lines: bool, tty: bool | None = None) -> None:
        """Must be made on the running loop: the output is written by its own thread."""
        self.out = OutputThread(stream)
        self.json_lines = json_lines
        self.tty = stream.isatty() if tty is None else tty
        self.interval_s = TTY_INTERVAL_S if self.tty else PLAIN_INTERVAL_S
        self._drawn = 0

    async def pump(self, consumer: Consumer) -> None:
        """Consume every event; in JSON mode write each as a line (handed to the output in
        batches: what has arrived, at most every 0.1 s)."""
        lines: list[str] = []
        last_write = time.monotonic()
        async for event in consumer:
            if self.json_lines:
                lines.append(event.model_dump_json())
                now = time.monotonic()
                if now - last_write > 0.1 or consumer.pending == 0:
                    await self.out.write("\n".join(lines) + "\n")
                    lines.clear()
                    last_write = now
        if lines:
            await self.out.write("\n".join(lines) + "\n")

    async def draw_forever(self, boards, consumer: Consumer | None, footer=lambda: "") -> None:  # noqa: ANN001
        """Redraw every `interval_s` (table mode only); `boards()` returns the states to show."""
        if self.json_lines:
            return
        while True:
            await asyncio.sleep(self.interval_s)
            self.draw(boards(), consumer, footer())

    def draw(self, boards: Iterable[BoardState], consumer: Consumer | None, footer: str = "") -> None:
        if self.json_lines:
            return
        lines = table_lines(boards, consumer)
        if footer:
            lines.append(footer)
        if self.tty:
            # Back to the top of the previous table, clear to the end, draw again.
            prefix = f"\x1b[{self._drawn}F\x1b[J" if self._drawn else ""
            self.out.put(prefix + "\n".join(lines) + "\n")
            self._drawn = len(lines)
        else:
            self.out.put(time.strftime("%H:%M:%S") + "\n" + "\n".join(lines) + "\n\n")

    async def finish(self, boards: Iterable[BoardState], consumer: Consumer | None, footer: str = "") -> bool:
        """Draw the last table (table mode), write out what is queued while the reader takes
        it; False (said on stderr) when the reader stopped reading and output was given up."""
        self.draw(boards, consumer, footer)
        await self.out.close()
        if self.out.unwritten:
            print(f"fleet: standard output is not being read; {self.out.unwritten:,} bytes of output were not "
                  "written", file=sys.stderr)  # fmt: skip
            return False
        return True


def footer_text(consumer: Consumer, recording=None) -> str:  # noqa: ANN001
    parts = [f"{consumer.dropped} events dropped by this view"] if consumer.dropped else []
    if recording is not None:
        parts.append(f"recording {recording.path}: {recording.events} events")
    return "; ".join(parts)


def streams_from(args: argparse.Namespace) -> StreamConfig:
    base = DEFAULT_STREAMS
    return StreamConfig(
        Stream.RESULTS | Stream.POWER | Stream.LOG, LogLevel[args.log_level.upper()],
        base.result_interval_ms if args.result_interval is None else args.result_interval,
        base.power_interval_ms if args.power_interval is None else args.power_interval, base.top_k,
    )  # fmt: skip


def install_stop_signals(stop: asyncio.Event) -> list[int]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    return installed


def stop_on_failure(stop: asyncio.Event, tasks: Iterable[asyncio.Task]) -> None:
    """Set `stop` when one of the output tasks fails (its stdout was closed: `| head`)."""
    for task in tasks:
        task.add_done_callback(lambda t: None if t.cancelled() or t.exception() is None else stop.set())


def raise_failed(tasks: Iterable[asyncio.Task]) -> None:
    """Raise what made an output task fail (a closed stdout's BrokenPipeError is for main)."""
    for task in tasks:
        if task.done() and not task.cancelled() and (exc := task.exception()) is not None:
            raise exc


async def _monitor(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    manager = FleetManager(config, streams=streams_from(args), target=args.to)
    view = MonitorView(sys.stdout, json_lines=args.json)
    stop = asyncio.Event()
    signals = install_stop_signals(stop)
    tasks: list[asyncio.Task] = []
    code = 0
    meters = None
    exporter = exporter_from(getattr(args, "mqtt", None), config, password_file=args.mqtt_password_file,
                             ca_file=args.mqtt_ca, cert_file=args.mqtt_cert, key_file=args.mqtt_key)  # fmt: skip
    try:
        if args.record:
            await manager.start_recording(args.record, force=args.force)
        consumer = manager.subscribe(maxsize=65536, name="monitor")  # before start: sees every event
        tasks.append(asyncio.create_task(view.pump(consumer)))
        if exporter is not None:
            exporter.attach(manager)
            if not await exporter.wait_connected(2.0):  # keeps trying in the background
                why = f" ({exporter.last_error})" if exporter.last_error else ""
                print(f"fleet: MQTT broker {exporter.url} not reachable yet{why}; retrying", file=sys.stderr)
        await manager.start()
        if (error := manager.unreachable()) is not None:
            report(error)
            return 1
        meters = await attach_meters(manager)
        tasks.append(asyncio.create_task(view.draw_forever(
            lambda: manager.boards.values(), consumer, lambda: footer_text(consumer, manager.recording))))  # fmt: skip
        stop_on_failure(stop, tasks)
        with contextlib.suppress(TimeoutError):  # not wait_for: docs/architecture.md, cancellation
            async with asyncio.timeout(args.duration):
                await stop.wait()
    finally:
        for task in tasks[1:]:
            task.cancel()
        recording = manager.recording
        if meters is not None:
            await meters.stop()
        try:
            await manager.stop()  # ends the consumer: the pump writes what is queued and returns
        except FleetError as exc:  # the recording could not be finished
            report(exc)
            code = 1
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if exporter is not None:
            await exporter.stop()
            print(f"fleet: {exporter.summary()}", file=sys.stderr)
        loop = asyncio.get_running_loop()
        for sig in signals:
            loop.remove_signal_handler(sig)
    raise_failed(tasks)
    if not await view.finish(manager.boards.values(), consumer, footer_text(consumer)):
        code = 1
    if recording is not None:
        print(f"fleet: recorded {recording.events} events to {recording.path}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    if args.duration is not None and args.duration <= 0:
        raise ConfigError(f"--duration {args.duration}: seconds > 0 expected")
    return asyncio.run(_monitor(args))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("monitor", help="live results, power and link health of every board", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--to", default="all", metavar="TARGET",
                   help="'all', board names, tags, groups, uids or ports, comma-separated (default: all)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="one JSON event per line")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds (default: until Ctrl-C)")
    p.add_argument("--record", metavar="FILE", help="record every event to FILE (gzip'd JSON lines)")
    p.add_argument("--force", action="store_true", help="overwrite the --record file if it exists")
    p.add_argument("--mqtt", metavar="URL",
                   help="also publish telemetry to this MQTT broker, e.g. mqtt://127.0.0.1:1883 "
                   "(default: [mqtt] url in devices.toml); a password here shows in `ps`: "
                   f"prefer --mqtt-password-file or ${PASSWORD_ENV}")  # fmt: skip
    p.add_argument("--mqtt-password-file", type=Path, metavar="FILE",
                   help="the broker password is the first line of FILE (the URL names the user)")  # fmt: skip
    p.add_argument("--mqtt-ca", type=Path, metavar="FILE", help="CA certificate(s) of an mqtts:// broker (PEM)")
    p.add_argument("--mqtt-cert", type=Path, metavar="FILE",
                   help="client certificate (PEM) for an mqtts:// broker that asks for one")  # fmt: skip
    p.add_argument("--mqtt-key", type=Path, metavar="FILE", help="the client certificate's key (PEM)")
    p.add_argument("--result-interval", type=int, metavar="MS",
                   help=f"minimum ms between results per board (default {DEFAULT_STREAMS.result_interval_ms})")  # fmt: skip
    p.add_argument("--power-interval", type=int, metavar="MS",
                   help=f"ms between power samples (default {DEFAULT_STREAMS.power_interval_ms})")  # fmt: skip
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warn", "error"],
                   help="lowest board log level streamed (default info)")  # fmt: skip
    p.set_defaults(func=run)
