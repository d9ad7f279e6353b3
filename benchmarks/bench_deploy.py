"""Deploy goodput on paced virtual boards, as a fraction of the serial line rate.

    python benchmarks/bench_deploy.py [--model PATH] [--boards 32] [--skip-parallel]

Each case starts `fleet sim` in its own process (so boards and host do not share a core)
with fresh boards at the given baud and 1 ms device turnaround, then uploads the model
(MODEL_BEGIN to the last cumulative ACK) and reports goodput = model bytes / upload time,
against the 8N1 line rate of baud/10 bytes/s. The parallel case uploads to N boards at
once and compares the slowest board's time with a single board's.

Targets: >= 97 % of line rate at 115200, >= 95 % at 921600, N boards <= 1.2x one board's time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from fleet.client import BoardClient
from fleet.deploy.model_file import load_model_file
from fleet.deploy.upload import upload
from fleet.transport.serial import open_transport
from sim_process import start_sim

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = REPO.parent / "shared" / "models" / "person_detect.tflite"


class Sim:
    """`fleet sim` in a child process (not pinned: deploy goodput is the line's, not the CPU's)."""

    def __init__(self, boards: int, baud: int) -> None:
        self.registry = tempfile.mkdtemp(prefix="fleet-bench-reg-")
        options = ["--baud", str(baud), "--turnaround-ms", "1", "--seed", "7"]
        self.proc, up = start_sim(boards, options, env={**os.environ, "FLEET_SIM_REGISTRY": self.registry})
        self.ports = [board["port"] for board in up]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


async def _upload_one(port: str, baud: int, image) -> float:  # noqa: ANN001
    client = await BoardClient.connect(await open_transport(port, baud), timeout=2.0)
    try:
        start = time.perf_counter()
        progress = await upload(client, image, slot=1)
        assert progress.acked == len(image.data)
        return time.perf_counter() - start
    finally:
        await client.close()


def measure(boards: int, baud: int, image) -> list[float]:  # noqa: ANN001
    sim = Sim(boards, baud)
    try:
        async def run() -> list[float]:
            return list(await asyncio.gather(*(_upload_one(p, baud, image) for p in sim.ports)))

        return asyncio.run(run())
    finally:
        sim.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--boards", type=int, default=32, help="boards in the parallel case")
    parser.add_argument("--parallel-baud", type=int, default=115200)
    parser.add_argument("--skip-parallel", action="store_true")
    args = parser.parse_args()
    model = load_model_file(args.model)
    size = len(model.data)
    print(f"model {args.model.name}: {size} B; command: python benchmarks/bench_deploy.py {' '.join(sys.argv[1:])}")
    single: dict[int, float] = {}
    for baud, target in ((115200, 0.97), (921600, 0.95)):
        (seconds,) = measure(1, baud, model.image)
        single[baud] = seconds
        line_rate = baud / 10
        fraction = size / seconds / line_rate
        verdict = "met" if fraction >= target else "MISSED"
        print(f"1 board  @ {baud:>6}: {seconds:6.2f} s, {size / seconds:9.0f} B/s = {fraction:6.1%} of line rate "
              f"({line_rate:.0f} B/s); target >= {target:.0%}: {verdict}")  # fmt: skip
    if not args.skip_parallel:
        baud = args.parallel_baud
        times = measure(args.boards, baud, model.image)
        ratio = max(times) / single[baud]
        verdict = "met" if ratio <= 1.2 else "MISSED"
        print(f"{args.boards} boards @ {baud:>6}: slowest {max(times):6.2f} s, fastest {min(times):6.2f} s; "
              f"{ratio:.2f}x one board's time; target <= 1.2x: {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
