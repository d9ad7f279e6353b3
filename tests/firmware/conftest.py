"""Fixtures for the firmware tests: build the C targets once per session, and start
POSIX boards on pseudo-terminals with their own state directories.

`posix_binary` is the POSIX board with the C99 reference runner (`make posix-ref`: no
C++, no TFLM tree needed), which the protocol tests drive; `tflm_build` builds the TFLM
board and fw_run-tflm (`make posix fw_run-tflm`) from the pinned TFLM tree, or skips
where the tree is absent."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.firmware import FIRMWARE, TFLM_TREE, PosixBoard, make


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
