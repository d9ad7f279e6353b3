"""`fleet bench MODEL --to TARGET`: latency and energy per inference on every board.

Deploys the model where needed (the same verified, rolled-back-on-failure path as `fleet
deploy`), streams every inference's result and POWER samples, and reports per board:
latency median/p90/p99 (device clock), inferences/s, average power, energy per inference
with its spread, arena and flash used. `--compare` puts a second model, or a report saved
earlier, side by side (ratios). How figures are computed: docs/bench.md.
Exit codes: 0 every board measured; 1 some board failed or stopped early (or none could
be reached); 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TextIO

from fleet.bench.collector import BoardCollector
from fleet.bench.compare import compare
from fleet.bench.report import BenchReport, csv_text, load_report, ratios_csv_text
from fleet.bench.run import DEFAULT_POWER_INTERVAL_MS, BenchOptions, bench_streams, run_bench
from fleet.cli.main import report as report_error
from fleet.cli.output import print_table
from fleet.config import load_config
from fleet.deploy.compose import NO_BUDGET, deploy_options
from fleet.errors import ConfigError
from fleet.manager import FleetManager
from fleet.meters.attach import attach_meters

HEADERS = ["BOARD", "PROFILE", "STATUS", "P50 ms", "P90 ms", "P99 ms", "INF/S", "mW", "uJ/INF", "uJ SD", "SOURCE",
           "ARENA KB", "FLASH KB", "MODEL"]  # fmt: skip


def _num(value: float | None, digits: int, scale: float = 1.0) -> str | None:
    return None if value is None else f"{value / scale:.{digits}f}"


def table_rows(report: BenchReport) -> tuple[list[str], list[list[str | None]]]:
    """The terminal table: headers and one row per board (ratio columns when comparing)."""
    ratios = {r.uid: r for r in report.comparison.ratios} if report.comparison else None
    headers = HEADERS + (["xP50", "xuJ"] if ratios is not None else [])
    rows: list[list[str | None]] = []
    for b in report.boards:
        row = [
            b.board, b.profile, b.status, _num(b.latency_median_us, 3, 1000), _num(b.latency_p90_us, 3, 1000),
            _num(b.latency_p99_us, 3, 1000), _num(b.inferences_per_s, 1), _num(b.power_mw, 2),
            _num(b.energy_per_inference_uj, 2), _num(b.energy_std_uj, 2), b.energy_source, _num(b.arena_used_bytes, 1, 1024),
            _num(b.flash_used_bytes, 1, 1024), b.model_prefix,
        ]  # fmt: skip
        if ratios is not None:
            r = ratios.get(b.uid)
            row += [_num(r.latency_median, 3) if r else None, _num(r.energy_per_inference, 3) if r else None]
        rows.append(row)
    return headers, rows


class ProgressView:
    """Progress on stderr: one line per board redrawn in place on a terminal, else a line per phase change."""

    def __init__(self, stream: TextIO, tty: bool | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self._lines: dict[str, str] = {}
        self._phases: dict[str, str] = {}
        self._drawn = 0

    def update(self, c: BoardCollector) -> None:
        text = f"{c.board:<20} {c.phase:<10} {c.measured}/{c.inferences}" + (f"  {c.reason}" if c.reason else "")
        self._lines[c.uid] = text
        if self.tty:
            prefix = f"\x1b[{self._drawn}F\x1b[J" if self._drawn else ""
            self.stream.write(prefix + "\n".join(self._lines.values()) + "\n")
            self._drawn = len(self._lines)
            self.stream.flush()
        elif self._phases.get(c.uid) != c.phase:
            self._phases[c.uid] = c.phase
            print(f"fleet bench: {text}", file=self.stream, flush=True)


def write_outputs(report: BenchReport, out: Path, extra: BenchReport | None = None) -> list[Path]:
    """bench.json, bench.csv (and compare.csv when comparing) and bench.png into `out`."""
    from fleet.bench.chart import write_chart  # matplotlib only when a chart is asked for

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "bench.json", out / "bench.csv", out / "bench.png"]
    paths[0].write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    paths[1].write_text(csv_text(report, *([extra] if extra else [])), encoding="utf-8")
    write_chart(report, paths[2])
    if report.comparison is not None:
        paths.append(out / "compare.csv")
        paths[-1].write_text(ratios_csv_text(report.comparison), encoding="utf-8")
    return paths


async def _bench(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    baseline_file = load_report(args.compare) if args.compare and args.compare.endswith(".json") else None
    options = BenchOptions(
        inferences=args.inferences, warmup=args.warmup, timeout_s=args.timeout,
        # A bench measures latency rather than judging it: devices.toml's budget does not apply.
        deploy=deploy_options(config.rollout, health_timeout_s=max(config.rollout.health_timeout_s, args.health_timeout),
                              max_latency_ms=NO_BUDGET),
    )  # fmt: skip
    manager = FleetManager(config, streams=bench_streams(args.power_interval), target=args.to)
    view = ProgressView(sys.stderr)
    meters = None
    try:
        await manager.start()
        if (error := manager.unreachable()) is not None:
            report_error(error)
            return 1
        meters = await attach_meters(manager)
        metered = meters.feeds if meters is not None else None
        result = await run_bench(manager, args.model, options, progress=view.update, metered=metered)
        second = None
        if args.compare and baseline_file is None:
            second = await run_bench(manager, args.compare, options, progress=view.update, metered=metered)
            result.comparison = compare(result, second, "model")
        elif baseline_file is not None:
            result.comparison = compare(result, baseline_file, "file")
    finally:
        if meters is not None:
            await meters.stop()
        await manager.stop()
    if args.json:
        print(result.model_dump_json(), flush=True)
    else:
        print_table(*table_rows(result))
        for b in result.boards:
            if b.reason:
                print(f"{b.board}: {b.status}: {b.reason}")
        for r in result.comparison.ratios if result.comparison else ():
            if r.note:
                print(f"{r.board}: {r.note}")
    if args.out:
        for path in write_outputs(result, Path(args.out), second):
            print(f"fleet bench: wrote {path}", file=sys.stderr)
    return 0 if result.ok else 1


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text}: a whole number > 0 expected")
    return value


def run(args: argparse.Namespace) -> int:
    if args.warmup < 0:
        raise ConfigError(f"--warmup {args.warmup}: a whole number >= 0 expected")
    return asyncio.run(_bench(args))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="latency and energy per inference of a model on every board",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("model", metavar="MODEL", help=".tflite file to benchmark (deployed where not running yet)")
    p.add_argument("--to", default="all", metavar="TARGET",
                   help="'all', board names, tags, groups, uids or ports, comma-separated (default: all)")  # fmt: skip
    p.add_argument("--inferences", type=_positive, default=50, metavar="N", help="results measured per board (default 50)")
    p.add_argument("--warmup", type=int, default=5, metavar="N", help="results skipped first (default 5)")
    p.add_argument("--power-interval", type=_positive, default=DEFAULT_POWER_INTERVAL_MS, metavar="MS",
                   help=f"ms between POWER samples (default {DEFAULT_POWER_INTERVAL_MS}, the boards' fastest)")  # fmt: skip
    p.add_argument("--timeout", type=float, default=600.0, metavar="S",
                   help="seconds allowed for the measurement after the deploy (default 600)")  # fmt: skip
    p.add_argument("--health-timeout", type=float, default=30.0, metavar="S",
                   help="seconds allowed for the deploy's health check (default 30: slow models on slow boards)")  # fmt: skip
    p.add_argument("--compare", metavar="MODEL|REPORT",
                   help="a second .tflite to benchmark too, or a bench.json saved earlier: ratios side by side")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the report as one JSON document")
    p.add_argument("--out", metavar="DIR", help="write bench.json, bench.csv and bench.png (a chart) into DIR")
    p.set_defaults(func=run)
