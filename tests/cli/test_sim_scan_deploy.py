"""The way a user runs fleet: `fleet sim` in one terminal, `fleet scan` and `fleet deploy` in another."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.sim import require_sim

require_sim()  # runs virtual boards or models

from fleet.models.bundled import bundled_model  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
@pytest.fixture
def env(tmp_path):
    """Registry and cache of this test only; no devices.toml (commands run in tmp_path)."""
    clean = {k: v for k, v in os.environ.items() if k != "FLEET_CONFIG"}
    return clean | {"FLEET_SIM_REGISTRY": str(tmp_path / "registry"), "FLEET_CACHE_DIR": str(tmp_path / "cache"),
                    "FLEET_LOCK_DIR": str(tmp_path / "locks")}  # fmt: skip


@pytest.fixture
def sim(env, tmp_path):
    """`fleet sim --boards 2` running hello_world, stopped with Ctrl-C at the end."""
    cmd = [sys.executable, "-m", "fleet", "sim", "--boards", "2", "--profile", "mixed", "--seed", "5", "--json", "--baud", "921600",
           "--model", str(bundled_model("sine"))]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    boards = [json.loads(proc.stdout.readline()) for _ in range(2)]
    yield boards
    proc.send_signal(signal.SIGINT)
    assert proc.wait(20) == 0
    assert not list((tmp_path / "registry").glob("*.json")), "fleet sim left registry entries behind"


def fleet(env, cwd, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fleet", *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout)  # fmt: skip


def test_scan_finds_the_virtual_boards_without_configuration(sim, env, tmp_path):
    out = fleet(env, tmp_path, "scan", "--json")
    assert out.returncode == 0, out.stderr
    rows = {r["uid"]: r for r in json.loads(out.stdout)["boards"]}
    assert set(rows) == {b["uid"] for b in sim}
    for board in sim:
        row = rows[board["uid"]]
        assert (row["port"], row["kind"], row["status"], row["source"]) == (board["port"], board["profile"], "ok", "virtual")
        assert row["model"] == "sine" and row["model_state"] == "active"
        assert row["runtime"].startswith("tflite-micro ") and row["runtime"].endswith(" reference")
        assert {"FULLY_CONNECTED", "CONV_2D"} <= set(row["operators"])  # from the board's profile
    table = fleet(env, tmp_path, "scan")
    assert table.stdout.splitlines()[0].split()[:3] == ["NAME", "UID", "KIND"]
    assert all(b["uid"] in table.stdout for b in sim)


def test_deploy_json_events_and_exit_code(sim, env, tmp_path):
    gesture = bundled_model("gesture")
    dry = fleet(env, tmp_path, "deploy", str(gesture), "--to", "all", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    kinds = [json.loads(line)["event"] for line in dry.stdout.splitlines()]
    assert kinds == ["plan", "preflight", "preflight"]

    out = fleet(env, tmp_path, "deploy", str(gesture), "--to", "all", "--json")
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert events[0]["event"] == "plan" and len(events[0]["boards"]) == 2
    assert [e["event"] for e in events].count("confirmed") == 2
    assert events[-1] == {**events[-1], "event": "done", "summary": {"confirmed": 2}}
    uploads = [e for e in events if e.get("phase") == "uploading"]
    assert uploads and uploads[-1]["bytes"] == uploads[-1]["total"] == gesture.stat().st_size

    rows = json.loads(fleet(env, tmp_path, "scan", "--json").stdout)["boards"]
    assert {(r["model"], r["model_version"]) for r in rows} == {("gesture", "1.0.0")}  # from the manifest

    again = fleet(env, tmp_path, "deploy", str(gesture), "--json")
    assert again.returncode == 0
    assert [json.loads(line)["event"] for line in again.stdout.splitlines()].count("skipped") == 2


def test_deploy_exit_codes_for_refusals_and_usage_errors(sim, env, tmp_path):
    bad = tmp_path / "notes.tflite"
    bad.write_text("not a model")
    out = fleet(env, tmp_path, "deploy", str(bad))
    assert out.returncode == 3
    assert "not a TFLite model" in out.stderr

    out = fleet(env, tmp_path, "deploy", str(bundled_model("gesture")), "--to", "nosuchboard")
    assert out.returncode == 2
    assert "no board, tag, group, uid or port matches 'nosuchboard'" in out.stderr

    uid = sim[0]["uid"]
    ok = fleet(env, tmp_path, "deploy", str(bundled_model("gesture")), "--to", uid[:6])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "confirmed" in ok.stdout


def test_a_deploy_killed_after_activate_is_finished_by_the_next_one(sim, env, tmp_path):
    """`kill -9` of `fleet deploy` once the model is on trial: scan says pending (table too),
    and the next deploy of the same model runs the health check and confirms it."""
    gesture = bundled_model("gesture")
    uid = sim[0]["uid"]
    # A long health check, so the kill lands while the model is on trial, not after CONFIRM.
    cmd = [sys.executable, "-m", "fleet", "deploy", str(gesture), "--to", uid, "--json", "--health-inferences", "100000",
           "--health-timeout", "120"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    for line in proc.stdout:
        if json.loads(line)["event"] == "activated":
            proc.kill()
            break
    proc.wait(20)
    assert proc.returncode == -signal.SIGKILL

    rows = {r["uid"]: r for r in json.loads(fleet(env, tmp_path, "scan", "--json").stdout)["boards"]}
    assert (rows[uid]["model"], rows[uid]["model_state"]) == ("gesture", "pending")
    table = fleet(env, tmp_path, "scan").stdout
    assert "gesture (pending)" in next(line for line in table.splitlines() if uid in line)
    dry = fleet(env, tmp_path, "deploy", str(gesture), "--to", uid, "--dry-run")
    assert dry.returncode == 0 and "runs this model on trial, not confirmed" in dry.stdout, dry.stdout

    again = fleet(env, tmp_path, "deploy", str(gesture), "--to", uid, "--json")
    events = [json.loads(line) for line in again.stdout.splitlines()]
    assert again.returncode == 0, again.stdout + again.stderr
    assert [e["event"] for e in events if e.get("board")][-1] == "confirmed"
    assert "skipped" not in [e["event"] for e in events]
    rows = {r["uid"]: r for r in json.loads(fleet(env, tmp_path, "scan", "--json").stdout)["boards"]}
    assert (rows[uid]["model"], rows[uid]["model_state"]) == ("gesture", "active")


def events_of(out: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in out.stdout.splitlines()]


def final(events: list[dict]) -> dict[str, dict]:
    """Each board's last event (its outcome), by uid."""
    return {e["uid"]: e for e in events if e.get("uid")}


@pytest.fixture
def monitor(env, tmp_path):
    """Starts `fleet monitor --to UID` and waits until it holds that board; stopped at the end."""
    procs: list[subprocess.Popen] = []

    def start(board: dict) -> subprocess.Popen:
        from fleet.transport.lock import holder_of

        cmd = [sys.executable, "-m", "fleet", "monitor", "--to", board["uid"], "--json"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
        procs.append(proc)
        os.environ["FLEET_LOCK_DIR"], saved = env["FLEET_LOCK_DIR"], os.environ.get("FLEET_LOCK_DIR")
        try:
            deadline = time.monotonic() + 60  # starting a Python process on a loaded machine takes a while
            while time.monotonic() < deadline and proc.poll() is None:
                holder = holder_of(board["port"])
                if holder is not None and holder.pid == proc.pid:
                    return proc
                time.sleep(0.05)
        finally:
            if saved is None:
                del os.environ["FLEET_LOCK_DIR"]
            else:
                os.environ["FLEET_LOCK_DIR"] = saved
        raise AssertionError(f"fleet monitor never took {board['port']}: {proc.stderr.read() if proc.poll() else ''}")

    yield start
    for proc in procs:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)


def test_a_board_held_by_fleet_monitor_is_reported_busy_with_its_holder(sim, env, tmp_path, monitor):
    held = monitor(sim[0])
    gesture = str(bundled_model("gesture"))

    out = fleet(env, tmp_path, "deploy", gesture, "--to", "all", "--json")
    outcome = final(events_of(out))
    assert outcome[sim[0]["uid"]]["event"] == "busy", out.stdout + out.stderr
    reason = outcome[sim[0]["uid"]]["reason"]
    assert f"pid {held.pid}" in reason and "fleet monitor" in reason and "since 20" in reason
    assert outcome[sim[1]["uid"]]["event"] == "confirmed"
    assert out.returncode == 4, "a busy target leaves the rollout incomplete"

    only = fleet(env, tmp_path, "deploy", gesture, "--to", sim[0]["uid"], "--json")
    assert only.returncode == 4, only.stdout + only.stderr
    assert final(events_of(only))[sim[0]["uid"]]["event"] == "busy"

    plain = fleet(env, tmp_path, "deploy", gesture, "--to", sim[0]["uid"])
    assert plain.returncode == 4
    assert "busy" in plain.stdout and f"pid {held.pid}" in plain.stdout

    monitor(sim[1])  # every board held: still not "no boards found"
    both = fleet(env, tmp_path, "deploy", str(bundled_model("sine")), "--to", "all", "--json")
    assert both.returncode == 4, both.stdout + both.stderr
    assert {e["event"] for e in final(events_of(both)).values()} == {"busy"}


def test_two_fleet_commands_started_together_do_not_see_each_other_as_busy(sim, env, tmp_path):
    for _ in range(3):
        cmd = [sys.executable, "-m", "fleet", "scan", "--json"]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
                 for _ in range(2)]  # fmt: skip
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            assert [r["status"] for r in json.loads(out)["boards"]] == ["ok", "ok"], out


def test_dry_run_says_refused_once_per_board(sim, env, tmp_path):
    from tests.shared_models import shared_model_path

    # Custom Signal* operators: the nano33ble firmware registers them, the esp32s3 profile does not.
    model = shared_model_path("audio_preprocessor_int8.tflite")
    out = fleet(env, tmp_path, "deploy", str(model), "--dry-run")
    assert out.returncode == 3, out.stdout + out.stderr
    lines = [line for line in out.stdout.splitlines() if "refused" in line]
    assert len(lines) == 1 and lines[0].count("refused") == 1, out.stdout
    assert lines[0].startswith("esp32s3-") and "cannot run Signal" in lines[0], lines
    assert "(unsupported operators)" in lines[0]
