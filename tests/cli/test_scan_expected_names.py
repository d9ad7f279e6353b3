"""`fleet scan` names a board it cannot open from devices.toml, marked as such: the name is
fleet's expectation for that port, not the board's answer."""

from __future__ import annotations

import json

from tests.support.sim import require_sim

require_sim()  # runs a virtual board

from fleet.transport.lock import BoardLock  # noqa: E402
from tests.support.cli import fleet, sim_process  # noqa: E402


def test_a_busy_port_shows_the_board_devices_toml_names_for_it(env, tmp_path):
    with sim_process(env, tmp_path, 1, "--seed", "5", "--baud", "921600") as (board,):
        (tmp_path / "devices.toml").write_text(f'[boards.lab-1]\nuid = "{board["uid"]}"\n', encoding="utf-8")
        # Another process drives the board (as `fleet monitor` would): a scan cannot open its port.
        with BoardLock(board["port"], tmp_path / "locks"):
            out = fleet(env, tmp_path, "scan", "--json")
            table = fleet(env, tmp_path, "scan")
        free = fleet(env, tmp_path, "scan", "--json")
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)["boards"]
    assert (row["name"], row["uid"], row["name_from"], row["status"]) == ("lab-1", board["uid"], "devices.toml", "busy")
    assert row["model"] is None and row["firmware"] is None  # nothing was heard from the board
    (line,) = table.stdout.splitlines()[1:]
    assert line.startswith("lab-1 (devices.toml)  " + board["uid"]) and "busy" in line
    # Once the port is free the board answers for itself, and the name is not marked.
    (row,) = json.loads(free.stdout)["boards"]
    assert (row["name"], row["name_from"], row["status"]) == ("lab-1", None, "ok")
