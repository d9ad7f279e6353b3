"""End to end, as a user runs it: `fleet sim` on real PTYs, `fleet monitor` and `fleet replay`
as subprocesses, with a private sim registry so other sims on the machine are not seen."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.sim import require_sim

require_sim()  # runs virtual boards

from fleet.models.bundled import bundled_model, find_bundled_manifest  # noqa: E402
from fleet.models.inspect import inspect_model  # noqa: E402
from fleet.profiles import get_profile  # noqa: E402
from tests.closed_stdout import run_with_closed_stdout  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path):
    env = dict(os.environ)
    env["FLEET_SIM_REGISTRY"] = str(tmp_path / "registry")
    env["PYTHONPATH"] = str(REPO)
    env.pop("FLEET_CONFIG", None)
    return env


def fleet(env, cwd, *args, timeout=90) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fleet", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=timeout, check=False)  # fmt: skip


@pytest.fixture
def sim(env, tmp_path):
    """Three virtual boards running the bundled gesture model, reset every ~2 s on average."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleet", "sim", "--boards", "3", "--seed", "21", "--json",
         "--model", str(bundled_model("gesture")), "--faults", "reboot_every=2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    try:
        boards = [json.loads(proc.stdout.readline()) for _ in range(3)]
        yield boards
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_monitor_shows_live_values_survives_resets_and_replays_identically(sim, env, tmp_path):
    record = tmp_path / "session.fleetrec"
    out = fleet(env, tmp_path, "monitor", "--json", "--duration", "6", "--record", str(record))
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    labels = find_bundled_manifest(inspect_model(bundled_model("gesture").read_bytes()).sha256).labels
    profile = get_profile("nano33ble")
    uids = {b["uid"] for b in sim}
    for uid in uids:
        mine = [e for e in events if e["uid"] == uid]
        results = [e for e in mine if e["kind"] == "result"]
        assert len(results) > 30
        assert all(e["label"] in labels and e["label"] == labels[e["top_index"]] for e in results)
        # 50 ms between results (the default), each inference busy for latency_us:
        latency = results[-1]["latency_us"]
        expected_mw = profile.idle_mw + (profile.active_mw - profile.idle_mw) * latency / 50_000
        powers = [e["power_mw"] for e in mine if e["kind"] == "power"]
        assert len(powers) > 20
        assert sorted(powers)[len(powers) // 2] == pytest.approx(expected_mw, rel=0.01)
    boots = [e for e in events if e["kind"] == "boot"]
    # A reset in the last moments of the window may not be over when monitor stops: judge
    # only the resets with 2 s or more of the window left after them.
    end = max(e["host_time"] for e in events)
    judged = [b for b in boots if end - b["host_time"] >= 2.0]
    assert judged, "no reset was injected early enough in 6 s"
    for boot in judged:  # every reset board came back online and streamed again
        later = events[events.index(boot):]
        assert any(e["kind"] == "state" and e["uid"] == boot["uid"] and e["state"] == "online" for e in later)
    last_boot = max(events.index(b) for b in boots)
    assert any(e["kind"] == "result" for e in events[last_boot:])

    replay = fleet(env, tmp_path, "replay", "--json", "--fast", str(record))
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout == out.stdout


def test_monitor_table_lists_every_board(sim, env, tmp_path):
    out = fleet(env, tmp_path, "monitor", "--duration", "3")
    assert out.returncode == 0, out.stderr
    table = out.stdout.splitlines()
    assert table[1].split() == ["BOARD", "STATE", "MODEL", "INF/S", "P50", "ms", "P99", "ms", "OUTPUT", "mW", "uJ/INF",
                                "LINK", "ERR", "DROPS"]  # fmt: skip
    for board in sim:
        rows = [line for line in table if line.startswith(f"nano33ble-{board['uid'][-4:]}")]
        assert rows and "gesture" in rows[-1] and "online" in rows[-1]


def test_monitor_without_boards_exits_1(env, tmp_path):
    out = fleet(env, tmp_path, "monitor", "--duration", "1")
    assert out.returncode == 1
    assert "no board could be reached" in out.stderr


def test_record_refuses_to_overwrite(env, tmp_path):
    record = tmp_path / "taken.fleetrec"
    record.write_bytes(b"keep me")
    out = fleet(env, tmp_path, "monitor", "--duration", "1", "--record", str(record))
    assert out.returncode == 1
    assert "exists already" in out.stderr and "--force" in out.stderr
    assert record.read_bytes() == b"keep me"


def test_replay_of_bad_files_says_what_is_wrong(env, tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("{}\n")
    out = fleet(env, tmp_path, "replay", str(plain))
    assert out.returncode == 1 and "not gzip-compressed" in out.stderr

    cut = tmp_path / "cut.fleetrec"
    header = {"format": "fleet-telemetry", "version": 1, "fleet_version": "x", "started": time.time(), "boards": []}
    line = {"board": "b", "uid": "01", "host_time": 1.0, "kind": "log", "device_time_us": 5, "level": 1, "text": "hi"}
    body = (json.dumps(header) + "\n" + json.dumps(line) + "\n").encode()
    cut.write_bytes(gzip.compress(body)[:-8])  # no gzip trailer: the writer was killed
    out = fleet(env, tmp_path, "replay", "--json", "--fast", str(cut))
    assert out.returncode == 1
    assert json.loads(out.stdout)["text"] == "hi"  # what is there is played
    assert "after 1 events (the writer was killed?)" in out.stderr


def test_monitor_stops_quietly_when_its_output_is_closed(sim, env, tmp_path):
    # `fleet monitor --json | head -1`, no --duration: it must not run on unseen.
    for mode in (["--json"], []):
        assert run_with_closed_stdout(["monitor", *mode], env=env, cwd=tmp_path) == (141, "")
