"""Run `fleet` with its standard output already closed, as `fleet … | head -1` leaves it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_with_closed_stdout(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
                           timeout: float = 60) -> tuple[int, str]:  # fmt: skip
    """(exit code, stderr) of `python -m fleet ARGS` whose reader is gone before it writes.
    A child that does not stop by itself within `timeout` is killed, never left running."""
    proc = subprocess.Popen([sys.executable, "-m", "fleet", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, cwd=cwd)  # fmt: skip
    proc.stdout.close()
    try:
        _, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err.decode()
