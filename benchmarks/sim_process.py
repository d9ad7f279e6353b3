"""The virtual boards of a benchmark: `fleet sim` in a child process, on a core of its own.

On a bench the boards are separate hardware; here they share the machine with the host
under test. `pin_host()` gives the simulator the last CPU and the benchmark process the
others, so the host's figures are its own (on a 2-core machine "under one core" is then
literal) and the boards keep their schedule instead of competing with the host for a core.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pinning:
    """Where the benchmark runs: `sim_cpus` for `start_sim` (None: shared), `text` to print."""

    sim_cpus: set[int] | None
    text: str


def pin_host(enabled: bool = True) -> Pinning:
    """Pin this process to all CPUs but the last and keep the last for the simulator (on a
    machine with at least two CPUs, and unless `enabled` is False)."""
    cpus = sorted(os.sched_getaffinity(0))
    if not enabled or len(cpus) < 2:
        return Pinning(None, "not pinned")
    host, sim = set(cpus[:-1]), {cpus[-1]}
    os.sched_setaffinity(0, host)
    return Pinning(sim, f"this process {sorted(host)}, simulator {sorted(sim)}")


def start_sim(boards: int, options: list[str], *, env: dict[str, str], cwd: Path | None = None,
              sim_cpus: set[int] | None = None) -> tuple[subprocess.Popen[str], list[dict]]:  # fmt: skip
    """Start `fleet sim --boards N --json OPTIONS`, pinned to `sim_cpus` if given; returns
    (the process, each board's JSON line) once every board is up."""
    command = [sys.executable, "-m", "fleet", "sim", "--boards", str(boards), "--json", *options]
    return start_boards(command, boards, env=env, cwd=cwd, sim_cpus=sim_cpus)


def start_replay(boards: int, options: list[str], *, env: dict[str, str], cwd: Path | None = None,
                 sim_cpus: set[int] | None = None) -> tuple[subprocess.Popen[str], list[dict]]:  # fmt: skip
    """Start `replay_boards.py --boards N OPTIONS` (the light load generator), like `start_sim`."""
    command = [sys.executable, str(Path(__file__).with_name("replay_boards.py")), "--boards", str(boards), *options]
    return start_boards(command, boards, env=env, cwd=cwd, sim_cpus=sim_cpus)


def start_boards(command: list[str], boards: int, *, env: dict[str, str], cwd: Path | None = None,
                 sim_cpus: set[int] | None = None) -> tuple[subprocess.Popen[str], list[dict]]:  # fmt: skip
    """Run a board farm's command (it prints one JSON line per board once up), pinned to `sim_cpus`."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=cwd)
    if sim_cpus is not None:
        os.sched_setaffinity(proc.pid, sim_cpus)
    assert proc.stdout is not None
    up = []
    for _ in range(boards):
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"the boards' process exited (code {proc.wait()}) before {boards} boards were up")
        up.append(json.loads(line))  # one line per board once it is up: port, uid, profile
    return proc, up


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
