"""A board that claims another board's uid (`fleet sim --clone-uid`), met through the CLI on
real PTYs: `fleet scan` flags both ports and exits 1, `fleet deploy` to the uid (or to all)
sends nothing and exits 1, `fleet monitor` reports the conflict, and the conflict ends when
the clone goes. Every wait is on a process ending, never on a guessed time."""

from __future__ import annotations

import json

import pytest

from tests.support.sim import require_sim

require_sim()  # runs virtual boards

from fleet.models.bundled import bundled_model  # noqa: E402
from tests.support.cli import LiveMonitor, fleet, sim_process  # noqa: E402
from tests.support.wait import DEADLINE_S  # noqa: E402

SINE = str(bundled_model("sine"))


@pytest.fixture
def real(env, tmp_path):
    """One honest board running sine."""
    with sim_process(env, tmp_path, 1, "--seed", "5", "--baud", "921600", "--model", SINE) as boards:
        yield boards[0]


def clone_of(env, tmp_path, board: dict):
    """A second `fleet sim` whose board claims `board`'s uid."""
    return sim_process(env, tmp_path, 1, "--seed", "6", "--baud", "921600", "--clone-uid", board["uid"])


def test_scan_flags_both_ports_of_a_cloned_uid_and_exits_1(real, env, tmp_path):
    with clone_of(env, tmp_path, real) as (clone,):
        assert clone["uid"] == real["uid"] and clone["port"] != real["port"]
        out = fleet(env, tmp_path, "scan", "--json")
        table = fleet(env, tmp_path, "scan")
    assert out.returncode == 1, out.stderr
    rows = json.loads(out.stdout)["boards"]
    assert sorted((r["port"], r["uid"], r["status"]) for r in rows) == sorted(
        [(real["port"], real["uid"], "conflict"), (clone["port"], real["uid"], "conflict")])  # fmt: skip
    said = f"fleet: error: uid {real['uid']} answers on 2 ports at once"
    assert said in out.stderr and real["port"] in out.stderr and clone["port"] in out.stderr
    assert table.returncode == 1 and said in table.stderr
    assert [line.split()[-1] for line in table.stdout.splitlines()[1:]] == ["conflict", "conflict"]


def test_deploy_to_a_cloned_uid_sends_nothing_and_exits_1(real, env, tmp_path):
    gesture = str(bundled_model("gesture"))
    with clone_of(env, tmp_path, real) as (clone,):
        by_uid = fleet(env, tmp_path, "deploy", gesture, "--to", real["uid"], "--json")
        to_all = fleet(env, tmp_path, "deploy", gesture, "--to", "all", "--json")
    for out in (by_uid, to_all):
        assert out.returncode == 1, out.stdout + out.stderr
        assert out.stdout == "", "a deploy event was emitted: the rollout started"
        assert f"uid {real['uid']} answers on 2 ports at once ({real['port']}, {clone['port']})" in out.stderr \
            or f"uid {real['uid']} answers on 2 ports at once ({clone['port']}, {real['port']})" in out.stderr
    # Nothing was sent: the honest board, alone again, still runs sine, and scan is content.
    after = fleet(env, tmp_path, "scan", "--json")
    assert after.returncode == 0, after.stderr
    (row,) = json.loads(after.stdout)["boards"]
    assert (row["uid"], row["status"], row["model"]) == (real["uid"], "ok", "sine")


def test_monitor_reports_the_conflict_instead_of_a_board(real, env, tmp_path):
    with clone_of(env, tmp_path, real) as (clone,):
        monitor = LiveMonitor(env, tmp_path)
        try:
            # Its first scan hears both ports: no board can be reached, and the monitor says
            # so and exits 1 by itself. Or one port was slow to answer: the board went online
            # there, and a rescan two seconds later finds the conflict; Ctrl-C then stops it.
            monitor.wait_until(lambda seen: any(e.get("state") == "conflict" for e in seen), "the conflict reported")
            went_online = any(e.get("state") == "online" for e in map(json.loads, monitor.lines))
            if not went_online:
                monitor.proc.wait(DEADLINE_S)
        finally:
            code, stdout, err = monitor.stop()
    assert code == (0 if went_online else 1), err
    states = [e for e in map(json.loads, stdout.splitlines()) if e.get("kind") == "state"]
    assert states and states[-1]["state"] == "conflict" and states[-1]["uid"] == real["uid"], states
    assert real["port"] in states[-1]["reason"] and clone["port"] in states[-1]["reason"]
    assert "Traceback" not in err


def test_clone_uid_must_be_a_uid(env, tmp_path):
    out = fleet(env, tmp_path, "sim", "--clone-uid", "xyz")
    assert out.returncode == 2
    assert "--clone-uid 'xyz': a board uid is 1..16 bytes of hex" in out.stderr
