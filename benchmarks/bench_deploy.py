"""Deploy goodput on paced virtual boards, as a fraction of the serial line rate, and the
bytes a delta upload sends.

    python benchmarks/bench_deploy.py [--model PATH] [--boards 32] [--skip-parallel] [--skip-delta] [--no-compress]

Each case starts `fleet sim` in its own process (so boards and host do not share a core)
with fresh boards at the given baud and 1 ms device turnaround, then uploads the model
(MODEL_BEGIN to the last cumulative ACK, host encoding included: every case starts with an
empty encoding cache) and reports goodput = model bytes / upload time, against the 8N1 line
rate of baud/10 bytes/s. Boards decode compressed uploads (PROTOCOL.md section 10), so
goodput can exceed the line rate; `--no-compress` measures plain chunks. The parallel case
uploads to N boards at once (one shared encoding, as a rollout does) and compares the
slowest board's time with a single board's.

The delta case builds versions of the model the way a bench changes one (last-layer
weights retrained, description changed, the largest weight tensor re-quantised) and uploads
each over the previous one, which the board holds in its other slot: it reports the stream
bytes and every byte the host wrote to the port (frames of MODEL_BEGIN, MODEL_STREAM,
MODEL_DATA, COMMIT, ACTIVATE included).

Targets: compressed >= 125 % of line rate at 115200, >= 120 % at 921600 (plain: >= 97 %,
>= 95 %); N boards <= 1.2x one board's time; delta of the last-layer change <= 10 % of the
model's bytes, of the metadata change < 1 KB.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

from fleet.client import BoardClient
from fleet.deploy.model_cache import ModelCache
from fleet.deploy.model_file import load_model_file
from fleet.deploy.stream_plan import EncodingCache
from fleet.deploy.upload import ModelImage, upload
from fleet.models.variants import change_description, requantize_tensor, retrain_last_layer
from fleet.protocol import ActivateMode, ModelActivate, ModelCommit
from fleet.transport.serial import open_transport
from sim_process import start_sim

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = REPO.parent / "shared" / "models" / "person_detect.tflite"


class Sim:
    """`fleet sim` in a child process (not pinned: deploy goodput is the line's, not the CPU's)."""

    def __init__(self, boards: int, baud: int, model: Path | None = None) -> None:
        self.registry = tempfile.mkdtemp(prefix="fleet-bench-reg-")
        options = ["--baud", str(baud), "--turnaround-ms", "1", "--seed", "7"]
        options += ["--model", str(model)] if model is not None else ["--no-model"]
        self.proc, up = start_sim(boards, options, env={**os.environ, "FLEET_SIM_REGISTRY": self.registry})
        self.ports = [board["port"] for board in up]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class CountingTransport:
    """A transport that counts the bytes the host writes (every frame, delimiters included)."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner = inner
        self.written = 0

    def __getattr__(self, name: str):  # noqa: ANN204 - read, close, baud... as the inner transport's
        return getattr(self.inner, name)

    async def write(self, data: bytes) -> None:
        self.written += len(data)
        await self.inner.write(data)


async def _upload_one(port: str, baud: int, image, compress: bool, encodings: EncodingCache) -> float:  # noqa: ANN001
    client = await BoardClient.connect(await open_transport(port, baud), timeout=2.0)
    try:
        start = time.perf_counter()
        progress = await upload(client, image, slot=1, compress=compress, encodings=encodings)
        assert progress.acked == len(image.data)
        return time.perf_counter() - start
    finally:
        await client.close()


def measure(boards: int, baud: int, image, compress: bool) -> list[float]:  # noqa: ANN001
    sim = Sim(boards, baud)
    encodings = EncodingCache()  # empty: the encoding is part of what is measured
    try:
        async def run() -> list[float]:
            return list(await asyncio.gather(*(_upload_one(p, baud, image, compress, encodings) for p in sim.ports)))

        return asyncio.run(run())
    finally:
        sim.close()


def delta_chain(model_path: Path, baud: int) -> None:
    """Upload each version over the previous one; print what crossed the wire."""
    base = model_path.read_bytes()
    versions = [("last-layer weights retrained", retrain_last_layer(base)),
                ("description changed (metadata only)", change_description(retrain_last_layer(base), "fleet v3")),
                ("largest tensor re-quantised", requantize_tensor(change_description(retrain_last_layer(base), "fleet v3")))]  # fmt: skip
    bases = ModelCache(Path(tempfile.mkdtemp(prefix="fleet-bench-models-")))
    bases.put(base)
    sim = Sim(1, baud, model_path)
    try:
        async def run() -> None:
            transport = CountingTransport(await open_transport(sim.ports[0], baud))
            client = await BoardClient.connect(transport, timeout=2.0)
            try:
                target = 1
                for what, data in versions:
                    image = ModelImage(data, hashlib.sha256(data).digest(), "bench", what[:32])
                    before = transport.written
                    progress = await upload(client, image, slot=target, bases=bases, encodings=EncodingCache())
                    await client.request(ModelCommit(target), timeout=30.0)
                    await client.request(ModelActivate(target, ActivateMode.PERMANENT))
                    await client.hello()
                    bases.put(data)
                    wrote = transport.written - before
                    limit = {"last": (0.10 * len(data), "<= 10 %"), "desc": (1024, "< 1 KB")}.get(what[:4])
                    verdict = ""
                    if limit is not None:
                        verdict = f"; target {limit[1]}: {'met' if wrote <= limit[0] and (limit[1] != '< 1 KB' or wrote < 1024) else 'MISSED'}"
                    print(f"delta: {what:38s} {progress.encoding:7s} stream {progress.wire_bytes:7d} B, all frames "
                          f"{wrote:7d} B = {wrote / len(data):6.2%} of {len(data)} B{verdict}")  # fmt: skip
                    target = 1 - target
            finally:
                await client.close()

        asyncio.run(run())
    finally:
        sim.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--boards", type=int, default=32, help="boards in the parallel case")
    parser.add_argument("--parallel-baud", type=int, default=115200)
    parser.add_argument("--skip-parallel", action="store_true")
    parser.add_argument("--skip-delta", action="store_true")
    parser.add_argument("--no-compress", action="store_true", help="plain chunks (the boards still could decode)")
    args = parser.parse_args()
    model = load_model_file(args.model)
    size = len(model.data)
    compress = not args.no_compress
    print(f"model {args.model.name}: {size} B; command: python benchmarks/bench_deploy.py {' '.join(sys.argv[1:])}")
    targets = ((115200, 1.25), (921600, 1.20)) if compress else ((115200, 0.97), (921600, 0.95))
    single: dict[int, float] = {}
    for baud, target in targets:
        (seconds,) = measure(1, baud, model.image, compress)
        single[baud] = seconds
        line_rate = baud / 10
        fraction = size / seconds / line_rate
        verdict = "met" if fraction >= target else "MISSED"
        print(f"1 board  @ {baud:>6} ({'compressed' if compress else 'plain'}): {seconds:6.2f} s, {size / seconds:9.0f} B/s = "
              f"{fraction:6.1%} of line rate ({line_rate:.0f} B/s); target >= {target:.0%}: {verdict}")  # fmt: skip
    if not args.skip_parallel:
        baud = args.parallel_baud
        times = measure(args.boards, baud, model.image, compress)
        ratio = max(times) / single[baud]
        verdict = "met" if ratio <= 1.2 else "MISSED"
        print(f"{args.boards} boards @ {baud:>6}: slowest {max(times):6.2f} s, fastest {min(times):6.2f} s; "
              f"{ratio:.2f}x one board's time; target <= 1.2x: {verdict}")  # fmt: skip
    if not args.skip_delta and compress:
        delta_chain(args.model, 115200)


if __name__ == "__main__":
    main()
