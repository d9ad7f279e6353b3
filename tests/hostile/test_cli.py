"""`fleet deploy`, `fleet monitor` and `fleet scan` against `fleet sim --hostile`, the way a
user meets a bad board: each ends with an error naming the board and what was wrong, in
bounded time, Ctrl-C works, and no byte of the board's escapes reaches the terminal."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.support.sim import require_sim

require_sim()  # runs virtual boards or models

from fleet.models.bundled import bundled_model  # noqa: E402
from fleet.transport.lock import holder_of  # noqa: E402
from tests.support.cli import LiveMonitor, fleet  # noqa: E402

RAW = ("\x1b", "\x07", "\x9b", "\u202e")  # what must never reach a terminal


@pytest.fixture
def hostile(env, tmp_path):
    """Start `fleet sim --hostile KINDS` (one board running sine); stopped with Ctrl-C at the end."""
    procs = []

    def start(kinds: str) -> dict:
        cmd = [sys.executable, "-m", "fleet", "sim", "--hostile", kinds, "--seed", "5", "--json", "--baud", "921600",
               "--model", str(bundled_model("sine"))]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
        procs.append(proc)
        return json.loads(proc.stdout.readline())

    yield start
    for proc in procs:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0


def assert_clean(out: subprocess.CompletedProcess) -> None:
    text = out.stdout + out.stderr
    assert "Traceback" not in text
    for raw in RAW:
        assert raw not in text, f"{raw!r} reached the terminal"


def test_deploy_refuses_a_board_with_max_payload_4(hostile, env, tmp_path):
    board = hostile("max-payload")
    started = time.monotonic()
    out = fleet(env, tmp_path, "deploy", str(bundled_model("gesture")), "--to", "all", timeout=30)
    assert time.monotonic() - started < 30
    assert out.returncode == 1, out.stdout + out.stderr
    said = out.stdout + out.stderr  # an error line, or the board's "failed" step: either names it
    assert "refused: Info: max_payload is 4; the protocol minimum is 512" in said
    assert board["port"] in said or "nano33ble-" in said
    assert_clean(out)


def test_monitor_refuses_a_board_with_an_unknown_slot_state(hostile, env, tmp_path):
    board = hostile("slot-state")
    out = fleet(env, tmp_path, "monitor", "--duration", "2", timeout=30)
    assert out.returncode == 1
    assert f"{board['port']}: refused: Info: slot 0 state is 9; slot states are 0..4" in out.stderr
    assert_clean(out)


def test_deploy_fails_on_an_ack_beyond_what_was_sent(hostile, env, tmp_path):
    hostile("ack-beyond")
    out = fleet(env, tmp_path, "deploy", str(bundled_model("gesture")), "--to", "all", timeout=60)
    assert out.returncode == 1
    # The board decodes compressed uploads (tests/hostile/test_upload.py lies in plain ones too).
    assert "refused: DataAck: next_offset is 10" in out.stdout
    assert_clean(out)


def test_board_text_reaches_the_terminal_escaped(hostile, env, tmp_path):
    hostile("control")
    scan = fleet(env, tmp_path, "scan")
    assert "\\x1b[31mkind\\x1b[0m\\u202e[b]x" in scan.stdout
    assert_clean(scan)
    deploy = fleet(env, tmp_path, "deploy", str(bundled_model("gesture")), "--to", "all", timeout=60)
    assert deploy.returncode == 1
    assert "\\x1b]0;pwned\\x07\\x1b[2J" in deploy.stdout  # the board's COMMIT refusal, visible
    assert_clean(deploy)
    live = LiveMonitor(env, tmp_path, "--log-level", "debug")
    try:
        live.wait_until(lambda events: any(e["kind"] == "log" for e in events), "a log line of the board")
    finally:
        code, stdout, stderr = live.stop()
    assert code == 0, stderr
    assert_clean(subprocess.CompletedProcess(live.proc.args, code, stdout, stderr))
    logs = [e for e in map(json.loads, stdout.splitlines()) if e.get("kind") == "log"]
    assert logs and all("\\x1b]0;pwned\\x07" in e["text"] for e in logs)


def test_ctrl_c_stops_a_deploy_to_a_silent_board(hostile, env, tmp_path, monkeypatch):
    board = hostile("silent")
    cmd = [sys.executable, "-m", "fleet", "deploy", str(bundled_model("gesture")), "--to", "all"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    # Ctrl-C once fleet is at the board (it holds its lock), not after a guessed time: on a
    # loaded machine a guess can land in Python's start-up, before fleet handles SIGINT.
    monkeypatch.setenv("FLEET_LOCK_DIR", env["FLEET_LOCK_DIR"])
    deadline = time.monotonic() + 60
    while (holder := holder_of(board["port"])) is None or holder.pid != proc.pid:
        assert proc.poll() is None, "fleet deploy ended instead of waiting for the silent board"
        assert time.monotonic() < deadline, "fleet deploy never opened the board"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    try:
        stdout, stderr = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("Ctrl-C did not stop fleet deploy within 10 s") from None
    assert proc.returncode != 0
    assert "Traceback" not in stderr


def test_an_unknown_hostile_kind_is_a_usage_error(env, tmp_path):
    out = fleet(env, tmp_path, "sim", "--hostile", "max-payload,nope")
    assert out.returncode == 2
    assert "--hostile: unknown kind 'nope'; known: max-payload, active-slot" in out.stderr
