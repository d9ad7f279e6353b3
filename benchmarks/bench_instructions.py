"""Instructions per telemetry event on the host's hot path, counted by valgrind.

    python benchmarks/bench_instructions.py [--tui] [--boards 32] [--batch 1]

Runs `bench_ingest.py --rounds 1` and `--rounds 3` under valgrind (cachegrind without its
cache simulation: it only counts the instructions executed) and divides the difference by
the events of the two extra rounds, so start-up, imports and connecting the boards cancel
out. Unlike CPU time, the count does not change with the load of the machine or its clock,
so two trees compare exactly on a busy machine (`PYTHONPATH=<tree> python <tree>/benchmarks/
bench_instructions.py`). It leaves out what bench_ingest leaves out (the event loop's
wake-ups and the PTYs). Needs valgrind (Debian: `apt-get install valgrind`); takes a few
minutes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = 200  # bench_ingest's default: per board and round, with a power sample per two results


def instructions(rounds: int, args: argparse.Namespace) -> int:
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
               sys.executable, str(HERE / "bench_ingest.py"), "--rounds", str(rounds), "--boards", str(args.boards),
               "--results", str(RESULTS), "--batch", str(args.batch), *(["--tui"] if args.tui else [])]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, env=os.environ, check=False)
    found = re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
    if run.returncode != 0 or found is None:
        raise SystemExit(f"valgrind run failed (exit {run.returncode}):\n{run.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--boards", type=int, default=32)
    p.add_argument("--tui", action="store_true", help="the consumer is the TUI's feed (bench_ingest --tui)")
    p.add_argument("--batch", type=int, default=1, help="frames per transport read (bench_ingest --batch)")
    args = p.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    one, three = instructions(1, args), instructions(3, args)
    events = 2 * args.boards * (RESULTS + RESULTS // 2)
    print(f"{(three - one) / events:,.0f} instructions per event ({args.boards} boards, "
          f"{'TUI feed' if args.tui else 'counting consumer'}, {args.batch} frame(s) per read; "
          f"{events:,} events between the two runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
