"""TUI under load: 32 virtual boards x 200 results/s into `fleet tui`; UI refresh latency and CPU.

    python benchmarks/bench_tui.py [--boards 32] [--rate 200] [--duration 20] [--baud 921600]

The boards run in a `fleet sim` child process pinned to a core of its own, this process
to the others (as on a bench: the boards are not the host; `--no-pin` shares them). This process runs what `fleet tui` runs: the FleetManager reading every PTY,
the event pump and the app, headless at 160x48 (the compositor renders every frame as on a
terminal; only the bytes are not written). Figures, over the measuring window:

- refresh latency: for every table refresh tick, how late it started against its schedule
  plus how long the redraw took (what a changing number waits before it is drawn);
- input latency: how late a 10 ms probe timer fires on the app's loop (what a key waits);
- CPU of this process (manager + TUI) and of the simulator process, in % of one core;
- events folded per second, results per board per second, events the TUI's consumer dropped.

Target: refresh latency p99 <= 50 ms on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textual.screen import Screen  # noqa: E402

from fleet.config import FleetConfig  # noqa: E402
from fleet.models.bundled import bundled_model  # noqa: E402
from fleet.protocol import LogLevel, Stream, StreamConfig  # noqa: E402
from fleet.telemetry.stats import percentile  # noqa: E402
from fleet.tui.app import FleetApp  # noqa: E402
from fleet.tui.feed import Feed  # noqa: E402
from fleet.tui.screens.fleet import FleetScreen  # noqa: E402
from fleet.tui.backend import LiveBackend  # noqa: E402

from sim_process import cpu_seconds, pin_host, start_replay, start_sim  # noqa: E402

WARMUP_S = 5.0
PROBE_S = 0.010


class GcPauses:
    """Garbage collector pauses per generation (the long ones stall the UI loop)."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses[info["generation"]].append(time.perf_counter() - self._start)


class Timings:
    """Refresh ticks (start, duration) and probe lateness, recorded inside the window."""

    def __init__(self) -> None:
        self.recording = False
        self.ticks: list[tuple[float, float]] = []
        self.probe_late: list[float] = []

    def wrap_redraw(self) -> None:
        original = FleetScreen.redraw
        timings = self

        def redraw(screen: FleetScreen) -> None:
            start = time.perf_counter()
            original(screen)
            if timings.recording:
                timings.ticks.append((start, time.perf_counter() - start))

        FleetScreen.redraw = redraw  # type: ignore[method-assign]
        # Where the UI's own time goes: folding events, and Textual drawing the screen.
        self.busy = {"pump (fold events)": 0.0, "render (Textual)": 0.0}
        Feed.ingest = self._timed(Feed.ingest, "pump (fold events)")  # type: ignore[method-assign]
        render = self._timed(Screen._compositor_refresh, "render (Textual)")
        Screen._compositor_refresh = render  # type: ignore[method-assign]

    def _timed(self, function, key: str):  # noqa: ANN001, ANN202 - wraps a method
        timings = self

        def timed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                if timings.recording:
                    timings.busy[key] += time.perf_counter() - start

        return timed

    async def probe(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + PROBE_S
            await asyncio.sleep(PROBE_S)
            if self.recording:
                self.probe_late.append(loop.time() - due)

    def refresh_latencies(self, period: float) -> list[float]:
        """Per timer tick: its lateness against the timer's grid plus the redraw time.

        Redraws a board's state change asks for at once fall between grid points; only
        their duration counts (their wait is the pump's, measured by the input probe)."""
        if not self.ticks:
            return []
        first = self.ticks[0][0]
        out = []
        for start, duration in self.ticks:
            k = round((start - first) / period)
            late = start - (first + k * period)
            out.append((late if 0 <= late < period / 4 else 0.0) + duration)
        return out


def ms(values: list[float], p: float) -> str:
    ranked = sorted(round(v * 1e6) for v in values)
    value = percentile(ranked, p)
    return "-" if value is None else f"{value / 1000:.1f}"


async def run(args: argparse.Namespace) -> None:
    registry = Path(tempfile.mkdtemp(prefix="bench-tui-"))
    os.environ["FLEET_SIM_REGISTRY"] = str(registry)
    pinning = pin_host(not args.no_pin)
    env = {**os.environ, "FLEET_SIM_REGISTRY": str(registry)}
    if args.load == "sim":
        options = ["--profile", "mixed", "--seed", "1", "--baud", str(args.baud), "--model", str(bundled_model("sine"))]
        sim, _ = start_sim(args.boards, options, env=env, cwd=ROOT, sim_cpus=pinning.sim_cpus)
    else:
        options = ["--rate", str(args.rate), "--power-hz", "10", "--seconds", str(args.duration + WARMUP_S + 90)]
        sim, _ = start_replay(args.boards, options, env=env, cwd=ROOT, sim_cpus=pinning.sim_cpus)
    timings = Timings()
    timings.wrap_redraw()
    interval_ms = max(1, round(1000 / args.rate))
    streams = StreamConfig(Stream.RESULTS | Stream.POWER | Stream.LOG, LogLevel.INFO, interval_ms, 100, 0)
    backend = LiveBackend(FleetConfig(), streams=streams)
    try:
        app = FleetApp(backend, refresh_hz=args.refresh_hz)
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            assert isinstance(screen, FleetScreen)
            deadline = time.monotonic() + 60
            boards = backend.manager.boards
            while not (screen.ready and sum(b.state == "online" for b in boards.values()) == args.boards):
                if time.monotonic() > deadline:
                    raise SystemExit(f"only {len(backend.manager.boards)} of {args.boards} boards came online")
                await pilot.pause(0.2)
            probe = asyncio.get_running_loop().create_task(timings.probe())
            await asyncio.sleep(WARMUP_S)
            consumer = next(c for c in backend.manager.hub.consumers if c.name == "tui")
            results0 = sum(b.stats.results for b in backend.manager.boards.values())
            events0, dropped0 = screen.feed.events, consumer.dropped
            published0 = backend.manager.hub.published
            cpu0, sim0, wall0 = time.process_time(), cpu_seconds(sim.pid), time.monotonic()
            gc_pauses = GcPauses()
            timings.recording = True
            await asyncio.sleep(args.duration)
            timings.recording = False
            gc.callbacks.remove(gc_pauses._callback)
            wall = time.monotonic() - wall0
            cpu, sim_cpu = time.process_time() - cpu0, cpu_seconds(sim.pid) - sim0
            results = sum(b.stats.results for b in backend.manager.boards.values()) - results0
            events, dropped = screen.feed.events - events0, consumer.dropped - dropped0
            published = backend.manager.hub.published - published0
            probe.cancel()
    finally:
        await backend.stop()
        sim.terminate()
        sim.wait(10)

    refresh = timings.refresh_latencies(1 / args.refresh_hz)
    redraws = [d for _, d in timings.ticks]
    print(f"command: python benchmarks/bench_tui.py {shlex.join(sys.argv[1:])}".rstrip())
    boards_text = "sine model, mixed profiles" if args.load == "sim" else "replay boards, gesture results, power 10 Hz"
    print(f"{args.boards} boards x {args.rate} results/s asked ({boards_text}, {args.baud} baud), "
          f"{args.duration:g} s measured after {WARMUP_S:g} s warm-up, table refresh {args.refresh_hz:g} Hz, 160x48")
    print(f"CPUs:                 {pinning.text}")
    print(f"results received:     {results / wall:,.0f}/s ({results / wall / args.boards:.1f} per board)")
    print(f"events folded by TUI: {events / wall:,.0f}/s, dropped by its consumer: {dropped}")
    print(f"refresh latency ms:   p50 {ms(refresh, 50)}  p99 {ms(refresh, 99)}  max {ms(refresh, 100)}  "
          f"({len(refresh)} ticks; redraw alone p99 {ms(redraws, 99)})")
    print(f"input latency ms:     p50 {ms(timings.probe_late, 50)}  p99 {ms(timings.probe_late, 99)}  "
          f"max {ms(timings.probe_late, 100)}  (10 ms probe on the app's loop)")
    redraw_total = sum(redraws)
    busy = {**timings.busy, "table redraw": redraw_total}
    print("UI's own time, % of wall: " + ", ".join(f"{k} {v / wall * 100:.1f}%" for k, v in busy.items()))
    gc_text = ", ".join(f"gen{g} {len(p)}x max {ms(p, 100)} ms" for g, p in gc_pauses.pauses.items())
    print(f"GC pauses:            {gc_text}")
    print(f"CPU, % of one core:   fleet tui (manager + UI) {cpu / wall * 100:.0f}%, "
          f"simulator {sim_cpu / wall * 100:.0f}%")
    # Comparable on a busy machine, where the share of a core says what the process was given.
    print(f"CPU per event:        {cpu / max(1, published) * 1e6:.1f} us (manager + UI, {published / wall:,.0f} "
          f"events/s published)")
    fast = bool(refresh) and percentile(sorted(round(v * 1e6) for v in refresh), 99) <= 50_000
    lean = cpu / wall <= 0.4
    print(f"target refresh latency p99 <= 50 ms: {'met' if fast else 'NOT met'}; "
          f"manager + UI <= 0.4 of a core (issue 16): {'met' if lean else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--boards", type=int, default=32)
    parser.add_argument("--rate", type=int, default=200, help="results per second per board")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--baud", type=int, default=921_600)
    parser.add_argument("--refresh-hz", type=float, default=5.0)
    parser.add_argument("--no-pin", action="store_true", help="do not give the simulator a CPU of its own")
    parser.add_argument("--load", choices=["replay", "sim"], default="replay",
                        help="replay: boards writing pre-encoded gesture results (replay_boards.py); sim: `fleet sim` "
                             "virtual boards (sine model, mixed profiles), too heavy for 32 x 200/s on a busy 2-core machine")  # fmt: skip
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
