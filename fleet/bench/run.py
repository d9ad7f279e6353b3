"""Run a benchmark on the boards a FleetManager holds: deploy, stream, collect, compute.

    manager = FleetManager(config, streams=bench_streams(10), target="all")
    await manager.start()
    report = await run_bench(manager, "person_detect.tflite", BenchOptions(inferences=50))

The manager must stream results back to back (`result_interval_ms` 0, so every
inference is reported and the board never idles between inferences by our doing) and
POWER at a fast interval: `bench_streams` gives that configuration. The deploy goes
through `manager.deploy` (pre-flight, verified upload, health check, rollback), with
strategy `all` and no failure limit, so one board that cannot take the model does not
stop the others; such a board is reported `failed` with the deploy's reason. Boards are
measured in parallel; each has the same deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from fleet import __version__
from fleet.bench.collector import BoardCollector
from fleet.bench.figures import duty_cycle, energy_figures, inference_rate, latency_figures, meter_energy_figures
from fleet.bench.report import BenchReport, BenchSettings, BoardBench, ModelRef
from fleet.cancel import cancel_and_wait
from fleet.deploy.board_deploy import DeployOptions
from fleet.deploy.model_file import ModelFile, load_model_file
from fleet.manager import FleetManager
from fleet.protocol import LogLevel, Stream, StreamConfig
from fleet.targets import select
from fleet.telemetry.events import DeployNotice, TelemetryEvent

DEFAULT_POWER_INTERVAL_MS = 10
Progress = Callable[[BoardCollector], None]


def bench_streams(power_interval_ms: int = DEFAULT_POWER_INTERVAL_MS) -> StreamConfig:
    """Results for every inference (top-1 only: short frames on a slow line), POWER fast, warnings."""
    return StreamConfig(Stream.RESULTS | Stream.POWER | Stream.LOG, LogLevel.WARN, 0, power_interval_ms, 1)


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """How much to measure and how long to wait."""

    inferences: int = 50
    warmup: int = 5
    min_power_samples: int = 3
    timeout_s: float = 600.0  # for the measurement of every board, after the deploy
    deploy: DeployOptions | None = None


async def run_bench(
    manager: FleetManager,
    model_path: str | os.PathLike[str],
    options: BenchOptions = BenchOptions(),
    *,
    target: str = "all",
    progress: Progress | None = None,
    metered: Callable[[str], bool] | None = None,
) -> BenchReport:
    """Deploy where needed and measure every board `target` names; see the module doc.

    Raises ModelError for an unusable model file and ConfigError for a target that names
    no managed board; a board that fails is a row with status `failed`, never an exception.
    `metered(uid)`: whether a working meter feeds the board (`fleet.meters.session.MeterSet.feeds`):
    its energy is then the meter's per-inference figure, and its measurement waits for it
    (asked again at every event, so a meter that fails stops being waited for).
    """
    started = time.time()
    model = load_model_file(model_path)
    chosen = select(list(manager.boards.values()), manager.config, target)
    prefix = model.info.sha256[:8]
    collectors = {
        b.uid: BoardCollector(b.name, b.uid, prefix, options.inferences, options.warmup, options.min_power_samples)
        for b in chosen
    }  # fmt: skip
    arena_used: dict[str, int] = {}
    changed = asyncio.Event()

    def on_event(event: TelemetryEvent) -> None:
        if isinstance(event, DeployNotice) and event.event.event == "verified" and event.event.arena_used is not None:
            arena_used[event.uid] = event.event.arena_used
        collector = collectors.get(event.uid)
        if collector is None:
            return
        before = (collector.phase, collector.measured)
        collector.metered = metered is not None and metered(event.uid)
        collector.feed(event)
        if (collector.phase, collector.measured) != before:
            changed.set()
            if progress is not None:
                progress(collector)

    consumer = manager.subscribe(maxsize=1 << 18, name="bench")
    pump = asyncio.create_task(_pump(consumer, on_event))
    try:
        if progress is not None:
            for collector in collectors.values():
                progress(collector)
        results = await manager.deploy(model_path, target, "all", options.deploy, max_failures=0)
        outcomes = {c.uid: r for c, r in zip(chosen, results)}
        for uid, collector in collectors.items():
            result = outcomes[uid]
            if result.outcome in ("confirmed", "skipped"):
                collector.arm()
            else:
                collector.fail(f"deploy {result.outcome}: {result.reason}" if result.reason else f"deploy {result.outcome}")
            if progress is not None:
                progress(collector)
        await _wait_done(collectors.values(), changed, options.timeout_s)
    finally:
        consumer.close()
        await cancel_and_wait(pump)
    rows = [
        _row(manager, c, model, outcomes[c.uid].outcome, arena_used.get(c.uid), options.timeout_s)
        for c in collectors.values()
    ]  # fmt: skip
    return BenchReport(
        fleet_version=__version__, started=started, duration_s=round(time.time() - started, 3),
        model=model_ref(model), boards=rows,
        settings=BenchSettings(inferences=options.inferences, warmup=options.warmup,
                               power_interval_ms=manager.streams.power_interval_ms, target=target),
    )  # fmt: skip


def model_ref(model: ModelFile) -> ModelRef:
    """How a report names its model."""
    return ModelRef(path=str(model.path), name=model.name, version=model.version, sha256=model.info.sha256,
                    size_bytes=len(model.data), arena_bytes=model.arena_bytes)  # fmt: skip


async def _pump(consumer, on_event: Callable[[TelemetryEvent], None]) -> None:  # noqa: ANN001
    async for event in consumer:
        on_event(event)


async def _wait_done(collectors, changed: asyncio.Event, timeout_s: float) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while any(c.active for c in collectors):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        changed.clear()
        with contextlib.suppress(TimeoutError):  # not wait_for: docs/architecture.md, cancellation
            async with asyncio.timeout(min(remaining, 1.0)):
                await changed.wait()


def _row(manager: FleetManager, c: BoardCollector, model: ModelFile, deploy: str, arena_board: int | None,
         timeout_s: float) -> BoardBench:  # fmt: skip
    state = manager.boards.get(c.uid)
    client = manager.client(c.uid)
    info = client.info if client is not None else None
    row = BoardBench(board=c.board, uid=c.uid, profile=state.profile if state else None, status="failed",
                     reason=c.reason, deploy=deploy, restarts=c.restarts)  # fmt: skip
    if c.phase == "failed":
        return row
    latency = latency_figures(c.results)
    metered = meter_energy_figures(c.results, c.meter_energies)
    energy = metered or energy_figures(c.results, c.powers)
    status = "ok" if c.phase == "done" else "partial"
    reason = None if status == "ok" else f"stopped after {timeout_s:g} s with {c.measured} of {c.inferences} results" + (
        f" ({c.reason})" if c.reason else "")  # fmt: skip
    if latency is None:
        return row.model_copy(update={"reason": reason})
    update: dict[str, object] = dict(
        status=status, reason=reason, model_prefix=c.results[0].model, inferences=latency.n,
        latency_median_us=latency.median_us, latency_p90_us=latency.p90_us, latency_p99_us=latency.p99_us,
        latency_mean_us=round(latency.mean_us, 3), latency_min_us=latency.min_us, latency_max_us=latency.max_us,
        inferences_per_s=_round(inference_rate(c.results), 4), duty_cycle=_round(duty_cycle(c.results), 6),
        lost_results=c.lost_results,
        arena_used_bytes=arena_board if arena_board is not None else model.arena_bytes,
        arena_source="board" if arena_board is not None else "host", flash_used_bytes=len(model.data),
        arena_bytes=info.arena_bytes if info else None, slot_bytes=info.slot_bytes if info else None,
    )  # fmt: skip
    if energy is not None:
        update.update(
            power_mw=round(energy.power_mw, 4), energy_per_inference_uj=round(energy.per_inference_uj, 4),
            energy_std_uj=_round(energy.std_uj, 4), energy_min_uj=round(energy.min_uj, 4),
            energy_max_uj=round(energy.max_uj, 4), energy_intervals=energy.intervals,
            energy_resolution_uj=round(energy.resolution_uj, 6), energy_window_s=energy.window_us / 1e6,
            power_samples=energy.samples,
            energy_source=c.meter_energies[0].source if metered else (c.powers[0].source if c.powers else None),
            energy_method=c.meter_energies[0].method if metered else "board",
        )  # fmt: skip
    elif status == "ok":
        update.update(status="partial", reason="too few POWER samples for an energy figure")
    return row.model_copy(update=update)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
