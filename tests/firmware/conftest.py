"""Fixtures for the firmware tests: build the C targets once per session, and start
POSIX boards on pseudo-terminals with their own state directories.

`posix_binary` is the POSIX board with the C99 reference runner (`make posix-ref`: no
C++, no TFLM tree needed), which the protocol tests drive; `tflm_build` builds the TFLM
board and fw_run-tflm (`make posix fw_run-tflm`) from the pinned TFLM tree, or skips
where the tree is absent."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.firmware.board_link import BoardLink
from tests.shared_models import shared_model_path

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
# The Makefile's default TFLM_DIR: the pinned reference tree beside the repository.
TFLM_TREE = ROOT.parent / "shared" / "third_party" / "tflite-micro" / "reference"


def make(*targets: str, timeout: float = 600) -> subprocess.CompletedProcess:
    if not shutil.which("make") or not shutil.which("cc"):
        pytest.skip("make and a C compiler are needed to build the firmware")
    return subprocess.run(["make", "-C", str(FIRMWARE), *targets], capture_output=True, text=True, timeout=timeout)


def model_bytes(name: str) -> bytes:
    """A public example model from ../shared/models, or skip the test (the default tests
    use the bundled models: see tests/firmware/models.py)."""
    return shared_model_path(name).read_bytes()


@pytest.fixture(scope="session")
def posix_binary() -> Path:
    result = make("posix-ref")
    assert result.returncode == 0, result.stdout + result.stderr
    return FIRMWARE / "build" / "posix-ref" / "fleet-fw-posix"


@dataclass(frozen=True)
class TflmBuild:
    posix: Path  # the POSIX board running TFLM
    fw_run: Path  # fw_run-tflm: a model through the same runner, without a PTY


@pytest.fixture(scope="session")
def tflm_build() -> TflmBuild:
    """The TFLM builds; the first use compiles the TFLM library (minutes: see README)."""
    if not (TFLM_TREE / "tensorflow" / "lite" / "micro" / "micro_interpreter.cc").is_file():
        pytest.skip(f"no TFLM source tree at {TFLM_TREE} (firmware/README.md says how to make one)")
    if not shutil.which("c++") and not shutil.which("g++"):
        pytest.skip("a C++ compiler is needed to build TFLM")
    result = make("-j2", "posix", "fw_run-tflm", timeout=3000)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    build = FIRMWARE / "build"
    return TflmBuild(build / "posix" / "fleet-fw-posix", build / "fw_run-tflm")


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


@pytest.fixture
def posix_board(posix_binary, tmp_path):
    board = PosixBoard(posix_binary, tmp_path / "state", "--uid", "f1ee7001")
    yield board
    board.stop()


@pytest.fixture
def link(posix_board):
    link = posix_board.link()
    yield link
    link.close()
