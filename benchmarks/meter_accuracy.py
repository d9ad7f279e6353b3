"""Energy per inference from emulated meters against the exact figure: the live rows of docs/power.md.

    python benchmarks/meter_accuracy.py [--meter lpm01a|ppk2] [--boards 2] [--duration 10] [--seed 1]

`fleet sim --boards N --meter M --seed S --model gesture.tflite` (nano33ble boards: 444 µs
inferences at 19.8 mW active, 6.6 mW idle) runs in a child process; `fleet monitor --json
--duration D` reads the boards and their meters. Printed per board: energy events and
results, the median and range of the measured µJ, and the mean error against the exact
energy of each result (active power × its latency), with the windows' method.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sim_process import start_sim  # noqa: E402

from fleet.profiles import get_profile  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--meter", choices=("lpm01a", "ppk2"), default="lpm01a")
    parser.add_argument("--boards", type=int, default=2)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    active_mw = get_profile("nano33ble").active_mw
    gesture = REPO / "fleet" / "models" / "examples" / "gesture.tflite"
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, FLEET_SIM_REGISTRY=str(Path(tmp) / "registry"), PYTHONPATH=str(REPO),
                   FLEET_LOCK_DIR=str(Path(tmp) / "locks"))  # fmt: skip
        options = ["--meter", args.meter, "--seed", str(args.seed), "--model", str(gesture)]
        sim, _ = start_sim(args.boards, options, env=env)
        try:
            command = [sys.executable, "-m", "fleet", "monitor", "--json", "--duration", str(args.duration)]
            monitor = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        finally:
            sim.terminate()
            sim.wait(timeout=20)
    latency: dict[tuple[str, int], int] = {}
    energies: dict[str, list[dict]] = defaultdict(list)
    results: dict[str, int] = defaultdict(int)
    for line in monitor.stdout.splitlines():
        event = json.loads(line)
        if event["kind"] == "result":
            latency[event["board"], event["inference_count"]] = event["latency_us"]
            results[event["board"]] += 1
        elif event["kind"] == "energy":
            energies[event["board"]].append(event)
    print(f"{args.boards} boards, --meter {args.meter}, --seed {args.seed}, {args.duration:g} s")
    for board in sorted(results):
        values = [e["energy_uj"] for e in energies[board]]
        pairs = [(e["energy_uj"], active_mw * latency[board, e["inference_count"]] / 1000) for e in energies[board]
                 if (board, e["inference_count"]) in latency]  # fmt: skip
        if not pairs:
            print(f"  {board}: {len(values)} energy events / {results[board]} results: none to compare")
            continue
        error = statistics.mean((v - x) / x for v, x in pairs)
        methods = ", ".join(sorted({e["method"] for e in energies[board]}))
        print(f"  {board}: {len(values)} energy events / {results[board]} results ({methods}); median "
              f"{statistics.median(values):.3f} µJ ({min(values):.3f}–{max(values):.3f}), exact "
              f"{statistics.median(x for _, x in pairs):.3f}; mean error {error * 100:+.2f} %")

if __name__ == "__main__":
    main()
