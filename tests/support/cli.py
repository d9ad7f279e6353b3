"""Running fleet as a user does, in child processes: `fleet sim` in one, commands in others.

    from tests.support.cli import fleet  # `env`, a fixture, is registered for every test (tests/conftest.py)
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

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
