"""Deploy goodput through ser2net (RFC2217 on loopback) against a direct PTY, at the same baud.

    python benchmarks/bench_remote.py [--model PATH] [--bauds 115200,921600] [--repeat 1]

For each baud: a fresh virtual board (`fleet sim` in its own process, 1 ms turnaround)
gets the model uploaded once straight over its PTY, then a fresh board gets it through
ser2net (`accepter: telnet(rfc2217),tcp,127.0.0.1,PORT`, connector at the same baud) as
`rfc2217://127.0.0.1:PORT?ign_set_control`. Goodput = model bytes / upload time
(MODEL_BEGIN to the last cumulative ACK); the ratio is via-ser2net / direct.

Target (issue 9): via ser2net >= 90 % of the direct goodput.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.remote.daemons: the ser2net recipe

from bench_deploy import DEFAULT_MODEL, Sim, _upload_one

from fleet.deploy.model_file import load_model_file
from tests.remote.daemons import Ser2Net, missing

TARGET = 0.90


def upload_seconds(baud: int, image, remote: bool) -> float:
    sim = Sim(1, baud)
    ser2net = None
    try:
        port = sim.ports[0]
        if remote:
            ser2net = Ser2Net(Path(tempfile.mkdtemp(prefix="fleet-bench-s2n-")), port, baud)
            ser2net.start()
            port = ser2net.url
        return asyncio.run(_upload_one(port, baud, image))
    finally:
        if ser2net is not None:
            ser2net.stop()
        sim.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--bauds", default="115200,921600", help="comma-separated line rates")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the best is kept")
    args = parser.parse_args()
    if reason := missing("ser2net"):
        sys.exit(f"bench_remote: {reason}")
    model = load_model_file(args.model)
    size = len(model.data)
    print(f"model {args.model.name}: {size} B; command: python benchmarks/bench_remote.py {' '.join(sys.argv[1:])}")
    for baud in (int(b) for b in args.bauds.split(",")):
        direct = min(upload_seconds(baud, model.image, False) for _ in range(args.repeat))
        remote = min(upload_seconds(baud, model.image, True) for _ in range(args.repeat))
        ratio = direct / remote
        line = baud / 10
        print(f"@ {baud:>6}: direct PTY {size / direct:8.0f} B/s ({size / direct / line:6.1%} of line), "
              f"via ser2net {size / remote:8.0f} B/s ({size / remote / line:6.1%}); "
              f"ratio {ratio:6.1%}; target >= {TARGET:.0%}: {'met' if ratio >= TARGET else 'MISSED'}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
