"""Running fleet commands the way a user does, against a devices.toml in the test's directory."""

from __future__ import annotations

import subprocess
import sys


def write_devices(tmp_path, url: str, extra: str = "") -> None:
    (tmp_path / "devices.toml").write_text(f'[boards.remote1]\nurl = "{url}"\n{extra}')


def fleet(env, cwd, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fleet", *args], capture_output=True, text=True, env=env, cwd=cwd, check=False,
                          timeout=timeout)  # fmt: skip


def fleet_popen(env, cwd, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "fleet", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=cwd)  # fmt: skip
