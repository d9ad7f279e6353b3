"""Host CPU of virtual boards: N boards on PTYs, each streaming R results/s of real TFLM inference.

    python benchmarks/bench_sim.py [--boards 32] [--rate 50] [--duration 10] [--baud 115200] [--model FILE]

The boards run in this process (a `SimFarm`, as `fleet sim` runs them); their CPU is
`time.process_time()` over a fixed wall-clock window. A separate reader process opens
every PTY with pyserial, as a host would, turns on the RESULTS stream at the asked rate
and counts the INFER_RESULT frames it decodes, so its own work is not charged to the boards.
Target: 32 boards x 50 results/s in well under one core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import selectors
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "shared" / "models" / "hello_world_int8.tflite"


def reader(ports: list[str], interval_ms: int, duration: float) -> None:
    """Child process: stream results from every port for `duration` s; print counts as JSON."""
    import serial

    from fleet.protocol import FrameDecoder, MsgType, Stream, StreamConfig, encode_message

    conns = [serial.Serial(p, timeout=0) for p in ports]
    decoders = {c.fileno(): (c, FrameDecoder()) for c in conns}
    for seq, conn in enumerate(conns, 1):
        conn.write(b"\x00" + encode_message(StreamConfig(int(Stream.RESULTS), 1, interval_ms, 1000, 0), seq))
    sel = selectors.DefaultSelector()
    for conn in conns:
        sel.register(conn.fileno(), selectors.EVENT_READ)

    def pump(count: bool) -> int:
        n = 0
        for key, _ in sel.select(0.05):
            conn, decoder = decoders[key.fd]
            for frame in decoder.feed(conn.read(65536)):
                n += count and frame.header.type == MsgType.INFER_RESULT and not frame.header.is_response
        return n

    warmup = time.monotonic() + 1.0  # streams start, first frames settle
    while time.monotonic() < warmup:
        pump(False)
    print("ready", flush=True)
    results = 0
    end = time.monotonic() + duration
    while time.monotonic() < end:
        results += pump(True)
    errors = sum(d.stats.errors for _, d in decoders.values())
    print(json.dumps({"results": results, "frame_errors": errors, "duration": duration}), flush=True)


async def run(args: argparse.Namespace) -> dict:
    from fleet.sim.farm import FarmConfig, SimFarm
    from fleet.sim.virtual_board import LinkConfig

    config = FarmConfig(boards=args.boards, profiles=("mixed",), seed=1, model=args.model.read_bytes(),
                        model_name=args.model.stem, link=LinkConfig(baud=args.baud))  # fmt: skip
    async with SimFarm(config) as farm:
        ports = [b.port for b in farm.boards]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--reader", str(1000 // args.rate), str(args.duration), *ports,
            stdout=subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdout is not None
        assert (await proc.stdout.readline()).strip() == b"ready"
        wall0, cpu0 = time.monotonic(), time.process_time()
        line = await proc.stdout.readline()
        wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
        await proc.wait()
        inferences = sum(b.engine.inference_count for b in farm.boards)
    counts = json.loads(line)
    return {
        "boards": args.boards, "rate_per_board": args.rate, "baud": args.baud, "model": args.model.name,
        "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "cpu_percent_of_one_core": round(100 * cpu / wall, 1),
        "results_received": counts["results"], "results_per_s": round(counts["results"] / wall, 1),
        "target_results_per_s": args.boards * args.rate, "frame_errors": counts["frame_errors"],
        "inferences_total": inferences,
    }  # fmt: skip


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--reader":
        reader(sys.argv[4:], int(sys.argv[2]), float(sys.argv[3]))
        return
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--boards", type=int, default=32)
    p.add_argument("--rate", type=int, default=50, help="results per second per board")
    p.add_argument("--duration", type=float, default=10.0, help="measured wall seconds")
    p.add_argument("--baud", type=int, default=115_200)
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = p.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    figures = asyncio.run(run(args))
    for key, value in figures.items():
        print(f"{key:>26}: {value}")


if __name__ == "__main__":
    main()
