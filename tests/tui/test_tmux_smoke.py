"""`fleet demo` in a real terminal (tmux), driven the way a person does: keys in, screen out.

The full story of the README: four boards stream, the user deploys gesture to the ESP32-S3
and the Pico with the demo's 0.5 ms latency budget, the ESP32-S3 confirms, the Pico rolls
back, and the screen says why.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.system,
    pytest.mark.timeout(480),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"),
]


class Terminal:
    """A detached tmux session of 160x48 running one command."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        self.name = f"fleet-smoke-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # The exit status stays on screen: the test reads it after `q`.
        # COLUMNS/LINES from the test process would override the terminal's size: drop them.
        script = (f"cd {shlex.quote(str(ROOT))} && env -u COLUMNS -u LINES {exports} {command}; "
                  "echo FLEET-EXITED-$?; sleep 30")  # fmt: skip
        # A private server (-L): no user configuration or other session changes the window size.
        self.tmux = ["tmux", "-L", self.name, "-f", "/dev/null"]
        subprocess.run([*self.tmux, "new-session", "-d", "-s", self.name, "-x", "160", "-y", "48", script], check=True)

    def screen(self) -> str:
        out = subprocess.run([*self.tmux, "capture-pane", "-p", "-t", self.name], capture_output=True, text=True)
        return out.stdout

    def keys(self, *keys: str) -> None:
        for key in keys:
            subprocess.run([*self.tmux, "send-keys", "-t", self.name, key], check=True)
            time.sleep(0.15)  # one key at a time, like a person, so each lands on the screen it is meant for

    def wait_for(self, *texts: str, timeout: float = 60.0) -> str:
        # Deadlines only bound a failure: a loaded CI machine (the firmware builds beside the
        # tests) took over 40 s for the deploy below; nothing here measures time.
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if all(t in screen for t in texts):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{texts} not on screen after {timeout:g} s:\n{screen}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


def test_demo_deploy_to_two_boards_one_rolls_back(tmp_path):
    env = {"FLEET_SIM_REGISTRY": str(tmp_path / "registry"), "FLEET_CACHE_DIR": str(tmp_path / "cache"),
           "TERM": "xterm-256color", "PATH": os.environ.get("PATH", "")}  # fmt: skip
    term = Terminal(f"{shlex.quote(sys.executable)} -m fleet demo --seed 5", env)
    try:
        screen = term.wait_for("4 boards, 4 online", "4 confirmed", timeout=150)
        assert "sine 1.0.0" in screen and "pico" in screen and "esp32s3" in screen
        term.keys("d")
        term.wait_for("Deploy a model", "gesture")
        term.keys("Enter")  # gesture is the first model: load it and run pre-flight on every board
        term.wait_for("boards can take it")
        term.keys("Down", "Down", "Space", "C-d")  # esp32s3 is preselected (the table's cursor); add the pico
        # All at once: a capture can land between two writes of the same frame.
        term.wait_for("finished: 1 confirmed, 1 rolled back", "exceeds the 0.5 ms budget", "rolled back to sine 1.0.0",
                      timeout=150)  # fmt: skip
        term.keys("q")
        term.wait_for("FLEET-EXITED-0", timeout=60)
        assert not list((tmp_path / "registry").glob("*.json"))  # the virtual boards were unplugged
    finally:
        term.close()
