"""`fleet deploy` (the real CLI: discovery, pre-flight, upload, health check, confirm or
rollback) against the firmware's POSIX port, named in a devices.toml like any board."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fleet.deploy.preflight import runtime_operators
from fleet.models.inspect import inspect_file
from fleet.protocol import Runtime, SlotState
from tests.support.firmware import PosixBoard
from tests.firmware.models import variant
from tests.shared_models import shared_model_path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "fleet" / "models" / "examples"


@pytest.fixture
def board(posix_binary, tmp_path):
    board = PosixBoard(posix_binary, tmp_path / "state", "--uid", "c0ffee01")
    (tmp_path / "devices.toml").write_text(f'[boards.fw]\nport = "{board.path}"\n')
    yield board
    board.stop()


def deploy(tmp_path: Path, model: Path, *args: str) -> tuple[int, list[dict]]:
    env = {**os.environ, "FLEET_CONFIG": str(tmp_path / "devices.toml"), "FLEET_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-m", "fleet", "deploy", str(model), "--to", "fw", "--json", *args],
                         capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    return out.returncode, [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def running_sha(board: PosixBoard) -> str:
    link = board.link()
    try:
        info = link.hello()
        return info.active.sha256.hex() if info.active else ""
    finally:
        link.close()


def test_fleet_deploy_confirms_refuses_and_rolls_back(board, tmp_path):
    sine = EXAMPLES / "sine.tflite"
    code, events = deploy(tmp_path, sine, "--health-inferences", "3")
    assert code == 0 and events[-1]["summary"] == {"confirmed": 1}, events[-3:]
    assert running_sha(board) == hashlib.sha256(sine.read_bytes()).hexdigest()

    # The same model again: nothing to send.
    code, events = deploy(tmp_path, sine)
    assert code == 0 and "skipped" in events[-1]["summary"], events[-3:]

    # An operator the reference runner does not have: its RUNTIME list lacks it, so
    # pre-flight refuses it by name before sending anything, and the board keeps sine.
    code, events = deploy(tmp_path, EXAMPLES / "gesture.tflite")
    assert code == 3
    assert any("RESHAPE" in (e.get("reason") or "") for e in events), events[-3:]
    assert running_sha(board) == hashlib.sha256(sine.read_bytes()).hexdigest()


def test_fleet_deploy_health_failure_rolls_back(board, tmp_path):
    sine = EXAMPLES / "sine.tflite"
    other = tmp_path / "sine_variant.tflite"  # another model the board can run
    other.write_bytes(variant(1))
    assert deploy(tmp_path, sine)[0] == 0
    # A latency limit no board meets: the health check fails after ACTIVATE (test), and
    # the deploy rolls the board back to sine.
    code, events = deploy(tmp_path, other, "--max-latency-ms", "0.0001")
    assert code == 1 and "rolled_back" in events[-1]["summary"], events[-3:]
    assert running_sha(board) == hashlib.sha256(sine.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", ["person_detect.tflite", "micro_speech_quantized.tflite"])
def test_fleet_deploy_refuses_operators_the_firmware_lacks_before_sending(board, tmp_path, name):
    """The 98 KB-conv-model report: the board's RUNTIME list makes pre-flight refuse, by
    operator name and with exit 3, before any byte of the model is sent."""
    model = shared_model_path(name)
    link = board.link()
    try:
        runtime = link.request(Runtime())
    finally:
        link.close()
    missing = [op for op in inspect_file(model).ops if op not in runtime_operators(runtime)]
    if not missing:
        pytest.skip(f"this firmware's runtime ({runtime.runtime}) runs every operator of {name}")
    code, events = deploy(tmp_path, model)
    assert code == 3, events[-3:]
    (refused,) = [e for e in events if e["event"] == "refused"]
    assert f"board fw ({runtime.runtime}) cannot run {', '.join(missing)} (unsupported operators)" in refused["reason"]
    assert not [e for e in events if e.get("phase") in ("uploading", "verifying")]
    link = board.link()
    try:
        assert [s.state for s in link.hello().slots] == [SlotState.EMPTY, SlotState.EMPTY]  # no MODEL_BEGIN reached it
    finally:
        link.close()
