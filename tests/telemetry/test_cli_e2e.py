"""End to end, as a user runs it: `fleet sim` on real PTYs, `fleet monitor` and `fleet replay`
as subprocesses, with a private sim registry so other sims on the machine are not seen."""

from __future__ import annotations

import gzip
import itertools
import json
import time

import pytest

from tests.support.sim import require_sim

require_sim()  # runs virtual boards

from fleet.models.bundled import bundled_model, find_bundled_manifest  # noqa: E402
from fleet.models.inspect import inspect_model  # noqa: E402
from fleet.profiles import get_profile  # noqa: E402
from tests.closed_stdout import run_with_closed_stdout  # noqa: E402
from tests.support.cli import LiveMonitor, fleet, sim_process  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture
def sim(env, tmp_path):
    """Three virtual boards running the bundled gesture model, reset every ~2 s on average."""
    gesture = str(bundled_model("gesture"))
    with sim_process(env, tmp_path, 3, "--seed", "21", "--model", gesture, "--faults", "reboot_every=2") as boards:
        yield boards


def _survived_a_reset(events, uid: str) -> bool:
    """Board `uid` was reset, then came back online, then streamed results."""
    mine = (e for e in events if e["uid"] == uid)
    since_boot = itertools.dropwhile(lambda e: e["kind"] != "boot", mine)
    since_online = itertools.dropwhile(lambda e: e["kind"] != "state" or e["state"] != "online", since_boot)
    return any(e["kind"] == "result" for e in since_online)


def test_monitor_shows_live_values_survives_resets_and_replays_identically(sim, env, tmp_path):
    record = tmp_path / "session.fleetrec"
    uids = {b["uid"] for b in sim}

    def enough(events) -> bool:
        # Every board streamed results and power, and came back from a reset. Once true it
        # stays true: waiting for a moment when every reset so far is over (three boards, each
        # reset every ~2 s) waits longer the longer a recovery takes on a loaded machine.
        kinds = [(e["uid"], e["kind"]) for e in events]
        return all(kinds.count((u, "result")) > 30 and kinds.count((u, "power")) > 20 and _survived_a_reset(events, u)
                   for u in uids)  # fmt: skip

    monitor = LiveMonitor(env, tmp_path, "--record", str(record))
    try:
        monitor.wait_until(enough, "results, power and a reset survived, on every board")
    finally:
        code, stdout, err = monitor.stop()
    assert code == 0, err
    events = [json.loads(line) for line in stdout.splitlines()]
    labels = find_bundled_manifest(inspect_model(bundled_model("gesture").read_bytes()).sha256).labels
    profile = get_profile("nano33ble")
    for uid in uids:
        mine = [e for e in events if e["uid"] == uid]
        results = [e for e in mine if e["kind"] == "result"]
        assert all(e["label"] in labels and e["label"] == labels[e["top_index"]] for e in results)
        # 50 ms between results (the default), each inference busy for latency_us:
        latency = results[-1]["latency_us"]
        expected_mw = profile.idle_mw + (profile.active_mw - profile.idle_mw) * latency / 50_000
        powers = [e["power_mw"] for e in mine if e["kind"] == "power"]
        assert sorted(powers)[len(powers) // 2] == pytest.approx(expected_mw, rel=0.01)
    assert all(_survived_a_reset(events, uid) for uid in uids)

    replay = fleet(env, tmp_path, "replay", "--json", "--fast", str(record))
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout == stdout


def test_monitor_table_lists_every_board(sim, env, tmp_path):
    rows = [f"nano33ble-{board['uid'][-4:]}" for board in sim]

    def every_board_shown_online(lines) -> bool:
        # In any of the tables printed so far: a board's reset may be under way at the last one.
        return all(any(ln.startswith(row) and "gesture" in ln and "online" in ln for ln in lines) for row in rows)

    monitor = LiveMonitor(env, tmp_path, table=True)
    try:
        monitor.wait_until(every_board_shown_online, "every board shown online running gesture")
    finally:
        code, stdout, err = monitor.stop()
    assert code == 0, err
    table = stdout.splitlines()
    assert table[1].split() == ["BOARD", "STATE", "MODEL", "INF/S", "P50", "ms", "P99", "ms", "OUTPUT", "mW", "uJ/INF",
                                "LINK", "ERR", "DROPS"]  # fmt: skip
    assert every_board_shown_online(table)


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
