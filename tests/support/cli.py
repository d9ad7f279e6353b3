"""Running fleet as a user does, in child processes: `fleet sim` in one, commands in others,
`fleet monitor` read live (`LiveMonitor`).

    from tests.support.cli import fleet  # `env`, a fixture, is registered for every test (tests/conftest.py)
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.wait import DEADLINE_S

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Environment of the fleet commands a test runs: this checkout's fleet, its own sim
    registry, arena cache and lock dir, no devices.toml (commands run in tmp_path)."""
    clean = {k: v for k, v in os.environ.items() if k != "FLEET_CONFIG"}
    return clean | {"PYTHONPATH": str(REPO), "FLEET_SIM_REGISTRY": str(tmp_path / "registry"),
                    "FLEET_CACHE_DIR": str(tmp_path / "cache"), "FLEET_LOCK_DIR": str(tmp_path / "locks")}  # fmt: skip


def fleet(env: dict[str, str], cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`fleet ARGS` to completion; its exit code, stdout and stderr."""
    return subprocess.run([sys.executable, "-m", "fleet", *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout, check=False)  # fmt: skip


@contextlib.contextmanager
def sim_process(env: dict[str, str], cwd: Path, boards: int, *options: str) -> Iterator[list[dict]]:
    """`fleet sim --boards N --json OPTIONS` in a child process; yields each board's JSON line, then stops it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleet", "sim", "--boards", str(boards), "--json", *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        yield [json.loads(proc.stdout.readline()) for _ in range(boards)]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


class LiveMonitor:
    """`fleet monitor --json ARGS` in a child process, its lines read as they come: a test
    stops it once what it checks has come (`wait_until`), not after a guessed duration.
    With `table=True`, `fleet monitor ARGS`: its plain tables, as text lines."""

    def __init__(self, env, cwd, *args: str, table: bool = False) -> None:
        mode = [] if table else ["--json"]
        self.proc = subprocess.Popen([sys.executable, "-m", "fleet", "monitor", *mode, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)  # fmt: skip
        self._parse = (lambda line: line.rstrip("\n")) if table else json.loads
        self.lines: list[str] = []
        self._reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self._reader.start()

    def wait_until(self, condition, what: str, timeout: float = DEADLINE_S) -> int:
        """How many events (table lines) had come when `condition(events)` first held (fails
        after `timeout` s)."""
        deadline = time.monotonic() + timeout
        events: list[dict] = []
        while True:
            exited = self.proc.poll() is not None
            if exited:
                self._reader.join(timeout=DEADLINE_S)  # its last lines may still be in the pipe
            events += [self._parse(line) for line in self.lines[len(events) :]]
            if condition(events):
                return len(events)
            assert not exited, f"monitor exited {self.proc.returncode}: {self.proc.stderr.read()}"
            assert time.monotonic() < deadline, f"not within {timeout:g} s: {what}"
            time.sleep(0.2)

    def stop(self) -> tuple[int, str, str]:
        """Ctrl-C, as a user stops it: (exit code, every stdout line, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
            err = self.proc.stderr.read()
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=10)
        return self.proc.returncode, "".join(self.lines), err


def monitor_until(env, cwd, condition, what: str, *args: str) -> list[dict]:
    """`fleet monitor --json ARGS` until `condition(events)` holds, stopped with Ctrl-C; every
    event it printed (fails if it did not exit 0)."""
    monitor = LiveMonitor(env, cwd, *args)
    try:
        monitor.wait_until(condition, what)
    finally:
        code, stdout, err = monitor.stop()
    assert code == 0, err
    return [json.loads(line) for line in stdout.splitlines()]
