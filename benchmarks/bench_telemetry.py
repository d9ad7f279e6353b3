"""Telemetry ingest: CPU of the fleet manager and device -> consumer event latency.

    python benchmarks/bench_telemetry.py [--boards 32] [--rate 200] [--power-hz 100] [--duration 10]
                                         [--baud 921600] [--record] [--no-pin]

`fleet sim` runs the virtual boards in a child process (on PTYs, with a private registry),
pinned to a core of its own and this process to the others (`--no-pin` shares them), so
only the host side is measured here: a `FleetManager` discovers and connects to every
board, turns on RESULTS at `--rate` per second and POWER at `--power-hz`, and one consumer
takes every event. Reported: this process's CPU (`time.process_time()`) over the window,
as a fraction of one core (and the kernel's part of it, `cpu_system_cores`), per event;
events per second; the port poller's passes per second (its wake-ups,
`fleet.transport.poller`); and the latency from the board's timestamp (its device time
mapped to the host clock with the PING estimate) to the consumer, p50/p99.
The latency includes the board's serial turnaround and transmit batching, the PTY and the
manager's decode/convert/fan-out, and, on a machine too busy for the virtual boards to
keep their schedule, their own lateness; `host_latency_*` is the host's share alone (from
the client decoding the frame to the consumer), sampled on `--stamp-boards` boards because
stamping costs CPU, which is counted. Target (issue 5): < 1 core, p99 <= 50 ms for
32 x 200/s + 100 Hz.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sim_process import cpu_seconds, pin_host, start_replay, start_sim  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))] if ordered else float("nan")


async def measure(args: argparse.Namespace, record: Path | None) -> dict:
    from fleet.config import FleetConfig
    from fleet.manager import FleetManager
    from fleet.protocol import LogLevel, Stream, StreamConfig
    from fleet.transport.poller import poller_for

    wanted = Stream.RESULTS | (Stream.POWER if args.power_hz else Stream.NONE)
    streams = StreamConfig(wanted, LogLevel.WARN, round(1000 / args.rate),
                           round(1000 / args.power_hz) if args.power_hz else 100, 0)  # fmt: skip
    manager = FleetManager(FleetConfig(), streams=streams)
    consumer = manager.subscribe(maxsize=1 << 16, name="bench")
    latencies: list[float] = []
    host_latencies: list[float] = []
    arrivals: dict[tuple[str, int], float] = {}  # (uid, device_time_us) -> when the client decoded it
    counts = {"result": 0, "power": 0, "other": 0}
    measuring = False

    async def consume() -> None:
        # Takes every event, as a consumer of a busy fleet does: all that is queued at each
        # wake-up (`take`), with the clock read once per wake-up (the events were all there
        # when it woke) and fields read from the event's dict (a pydantic attribute costs
        # several times as much), so the measuring itself weighs as little as it can.
        while True:
            try:
                batch = [await consumer.get(), *consumer.take(1 << 16)]
            except StopAsyncIteration:
                return
            if not measuring:
                continue
            now = time.time()
            for event in batch:
                d = event.__dict__
                kind = d["kind"]
                if kind == "result" or kind == "power":
                    latencies.append(now - d["host_time"])
                    counts[kind] += 1
                    if d["uid"] in stamped:
                        arrived = arrivals.pop((d["uid"], d["device_time_us"]), None)
                        if arrived is not None:
                            host_latencies.append(now - arrived)
                else:
                    counts["other"] += 1

    def stamper(uid: str):  # noqa: ANN202
        # The host's own share of the latency: a stream sink runs in the client's reader as
        # the read's frames are decoded (right after the manager's own, which converts them),
        # so before any consumer task can see their events.
        def stamp(records) -> None:  # noqa: ANN001 - fleet.protocol.stream records: (type, seq, values)
            if measuring:
                now = time.time()
                for _type, _seq, values in records:
                    arrivals[(uid, values[0])] = now  # device_time_us, the first field of both

        return stamp

    stamped: set[str] = set()
    task = asyncio.create_task(consume())
    await manager.start(settle_timeout_s=30)
    online = sum(b.state == "online" for b in manager.boards.values())
    stamped.update([uid for uid in manager.boards if manager.client(uid) is not None][: args.stamp_boards])
    for uid in stamped:
        manager.client(uid).add_stream_sink(stamper(uid))
    if record is not None:
        await manager.start_recording(record, force=True)
    await asyncio.sleep(args.warmup)
    measuring = True
    poller = poller_for(asyncio.get_running_loop())
    if args.poll_ms is not None:
        poller.fixed_interval_s = poller.interval_s = args.poll_ms / 1000
    times0, cpu0, wall0, passes0 = os.times(), time.process_time(), time.monotonic(), poller.passes
    await asyncio.sleep(args.duration)
    cpu, wall, times1 = time.process_time() - cpu0, time.monotonic() - wall0, os.times()
    passes = poller.passes - passes0
    measuring = False
    reader_drops = sum(b.link.events_dropped for b in manager.boards.values() if b.link)
    lost = sum(b.link.events_lost for b in manager.boards.values() if b.link)
    writer = await manager.stop_recording()
    await manager.stop()
    await task
    return {
        "boards_online": online,
        "cpu_cores": round(cpu / wall, 3),
        # The kernel's share (reads, polls, wake-ups) apart from the interpreter's.
        "cpu_system_cores": round((times1.system - times0.system) / wall, 3),
        # Comparable when the machine is busy: a starved process gets fewer reads with more
        # frames each, so its cores figure drops while its cost per event does not.
        "cpu_us_per_event": round(cpu / max(1, sum(counts.values())) * 1e6, 1),
        "results_per_s": round(counts["result"] / wall, 1),
        # Passes of the port poller over the ready ports (fleet.transport.poller): wake-ups.
        "reader_passes_per_s": round(passes / wall, 1),
        "poll_interval_ms": round(poller.interval_s * 1000, 3),  # after the last pass
        "results_asked_per_s": round(online * args.rate, 1),
        "power_per_s": round(counts["power"] / wall, 1),
        "power_asked_per_s": round(online * args.power_hz, 1),
        "latency_p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "latency_p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "latency_max_ms": round(max(latencies, default=float("nan")) * 1000, 2),
        "host_latency_p50_ms": round(percentile(host_latencies, 50) * 1000, 2),
        "host_latency_p99_ms": round(percentile(host_latencies, 99) * 1000, 2),
        "consumer_dropped": consumer.dropped,
        "reader_dropped": reader_drops,
        "events_lost_on_link": lost,
        "recorded_events": writer.events if writer else None,
        "recording_bytes": record.stat().st_size if record else None,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--boards", type=int, default=32)
    p.add_argument("--rate", type=float, default=200.0, help="results per second per board")
    p.add_argument("--power-hz", type=float, default=100.0, help="power samples per second per board (0: none)")
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--baud", type=int, default=921_600, help="virtual line rate (115200 cannot carry 200 results/s)")
    p.add_argument("--stamp-boards", type=int, default=4, help="boards whose host-side latency is measured")
    p.add_argument("--no-pin", action="store_true", help="do not give the simulator a CPU of its own")
    p.add_argument("--poll-ms", type=float, default=None,
                   help="a fixed port poller interval while measuring (default: sized by the ports read, fleet.transport.poller)")
    p.add_argument("--record", action="store_true", help="also record the session (gzip JSON lines)")
    p.add_argument("--model", default=str(REPO / "fleet" / "models" / "examples" / "gesture.tflite"),
                   help="the virtual boards' model (--load sim; replay boards send gesture results)")
    p.add_argument("--load", choices=["replay", "sim"], default="replay",
                   help="replay: boards that write pre-encoded frames (replay_boards.py), light enough for 128 "
                        "boards on one core; sim: `fleet sim` virtual boards running TFLite Micro")  # fmt: skip
    args = p.parse_args()
    print("$ " + shlex.join([sys.executable, *sys.argv]), flush=True)

    pinning = pin_host(not args.no_pin)
    with tempfile.TemporaryDirectory(prefix="bench-telemetry-") as tmp:
        env = {**os.environ, "FLEET_SIM_REGISTRY": str(Path(tmp) / "registry"), "PYTHONPATH": str(REPO)}
        os.environ["FLEET_SIM_REGISTRY"] = env["FLEET_SIM_REGISTRY"]
        if args.load == "sim":
            options = ["--baud", str(args.baud), "--seed", "1", "--model", args.model]
            sim, _ = start_sim(args.boards, options, env=env, cwd=Path(tmp), sim_cpus=pinning.sim_cpus)
        else:
            options = ["--rate", str(args.rate), "--power-hz", str(args.power_hz),
                       "--seconds", str(args.warmup + args.duration + 40)]  # fmt: skip
            sim, _ = start_replay(args.boards, options, env=env, cwd=Path(tmp), sim_cpus=pinning.sim_cpus)
        try:
            sim_cpu0 = cpu_seconds(sim.pid)
            t0 = time.monotonic()
            figures = asyncio.run(measure(args, Path(tmp) / "bench.fleetrec" if args.record else None))
            figures["sim_process_cores"] = round((cpu_seconds(sim.pid) - sim_cpu0) / (time.monotonic() - t0), 3)
        finally:
            sim.terminate()
            sim.wait(timeout=30)
    figures["cpus"] = pinning.text
    print(json.dumps(figures, indent=2))
    # Issue 16's targets: the pinned 32-board load within a quarter of a core and p99 <= 20 ms;
    # larger fleets (128 boards) under one core with nothing dropped.
    dropped = figures["consumer_dropped"] + figures["reader_dropped"] + figures["events_lost_on_link"]
    if args.boards <= 32:
        ok, target = figures["cpu_cores"] <= 0.25 and figures["latency_p99_ms"] <= 20.0, "<= 0.25 core, p99 <= 20 ms"
    else:
        ok, target = figures["cpu_cores"] < 1.0 and dropped == 0, "< 1 core, nothing dropped"
    print(f"target ({target}): {'met' if ok else 'NOT met'}")
    if figures["results_per_s"] < 0.9 * figures["results_asked_per_s"]:
        # The boards fell behind their own schedule (a busy machine): events leave them late,
        # and that lateness is part of the device -> consumer latency measured here.
        print("note: the virtual boards did not keep up with the asked rate; latency includes their lateness")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
