"""Building the C firmware and running its POSIX board: what the firmware tests and the
behaviour tests (tests/behaviour) share."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.shared_models import shared_model_path
from tests.support.board_link import BoardLink

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
# The Makefile's default TFLM_DIR: the pinned reference tree beside the repository.
TFLM_TREE = ROOT.parent / "shared" / "third_party" / "tflite-micro" / "reference"


# The operators the TFLM runner registers, generated from the tree (firmware/tools/gen_tflm_ops.py).
TFLM_OPS_INC = FIRMWARE / "runner" / "tflm" / "fw_tflm_ops.inc"


def tflm_registered_ops(text: str | None = None) -> tuple[list[str], list[str]]:
    """(builtin names, custom names), in order, that fw_tflm_ops.inc (or `text` in its form) registers."""
    text = TFLM_OPS_INC.read_text() if text is None else text
    builtins = re.findall(r"^FW_TFLM_BUILTIN\(\w+, (\w+)\)", text, re.M)
    return builtins, re.findall(r'^FW_TFLM_CUSTOM\(\w+, "(\w+)"\)', text, re.M)


def make(*targets: str, timeout: float = 600) -> subprocess.CompletedProcess:
    if not shutil.which("make") or not shutil.which("cc"):
        pytest.skip("make and a C compiler are needed to build the firmware")
    return subprocess.run(["make", "-C", str(FIRMWARE), *targets], capture_output=True, text=True, timeout=timeout)


def model_bytes(name: str) -> bytes:
    """A public example model from ../shared/models, or skip the test (the default tests
    use the bundled models: see tests/firmware/models.py)."""
    return shared_model_path(name).read_bytes()


class PosixBoard:
    """A running POSIX board process; `restart()` is a power cycle that keeps the state dir."""

    def __init__(self, binary: Path, state: Path, *args: str) -> None:
        self.binary, self.state, self.args = binary, state, args
        self.proc: subprocess.Popen | None = None
        self.path = ""
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(self.binary), "--state", str(self.state), *self.args], stdout=subprocess.PIPE, text=True
        )
        line = self.proc.stdout.readline().split()
        assert line and line[0] == "PTY", f"the board printed {line!r} instead of its PTY"
        self.path = line[1]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=5)

    def restart(self) -> None:
        self.stop()
        self.start()

    def link(self) -> BoardLink:
        return BoardLink.open(self.path)
