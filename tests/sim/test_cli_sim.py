"""`fleet sim` as a user runs it: a subprocess, ports printed, registry entries, clean exit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from fleet.models.bundled import bundled_model
from fleet.protocol import Hello, Info, SlotState
from fleet.virtual_ports import registered_boards
from tests.sim.test_pty import ask
from tests.support.cli import monitor_until, sim_process


def start_sim(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, dict[str, str]]:
    env = {
        **os.environ,
        "FLEET_SIM_REGISTRY": str(tmp_path / "registry"),
        "TMPDIR": str(tmp_path / "tmp"),
    }
    (tmp_path / "tmp").mkdir(exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleet", "sim", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    return proc, env


def read_lines(proc: subprocess.Popen, n: int) -> list[dict]:
    lines = []
    for _ in range(n):
        line = proc.stdout.readline()
        if not line:
            proc.kill()
            raise AssertionError(f"fleet sim exited early: {proc.stderr.read()}")
        lines.append(json.loads(line))
    return lines


def stop(proc: subprocess.Popen, sig: int = signal.SIGINT) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_sim_json_registry_hello_and_clean_exit(tmp_path):
    proc, _ = start_sim(tmp_path, "--boards", "2", "--json", "--seed", "11", "--profile", "mixed")
    try:
        lines = read_lines(proc, 2)
        assert [line["profile"] for line in lines] == ["nano33ble", "esp32s3"]
        listed = registered_boards(tmp_path / "registry")
        assert sorted((b.port, b.uid) for b in listed) == sorted((x["port"], x["uid"]) for x in lines)
        for line in lines:
            info = ask(line["port"], Hello())
            assert isinstance(info, Info) and info.uid.hex() == line["uid"] and info.board_kind == line["profile"]
            # No --model: every board boots running the bundled sine model, as `fleet demo`'s do.
            assert info.active_slot == 0 and (info.slots[0].name, info.slots[0].version) == ("sine", "1.0.0")
    finally:
        code = stop(proc)
    assert code == 0, proc.stderr.read()
    assert not (tmp_path / "registry").exists()
    assert list((tmp_path / "tmp").iterdir()) == []  # the temporary flash is gone too
    # (The PTYs go with the process; their /dev/pts numbers may be reused by anyone at once.)


def test_sim_model_and_persistent_state_survive_restart(tmp_path):
    model = bundled_model("sine")
    state = tmp_path / "state"
    uids = []
    for _ in range(2):
        proc, _ = start_sim(tmp_path, "--json", "--state", str(state), "--model", str(model))
        try:
            (line,) = read_lines(proc, 1)
            info = ask(line["port"], Hello())
            assert info.active_slot == 0 and info.slots[0].state == SlotState.ACTIVE
            assert (info.slots[0].name, info.slots[0].version) == ("sine", "1.0.0")  # from sine.json
            uids.append(info.uid)
        finally:
            assert stop(proc, signal.SIGTERM) == 0
    assert uids[0] == uids[1]  # no seed, but the uid lives in the board's flash
    assert (state / "board00" / "state.json").exists()


def test_sim_no_model_boots_blank_boards(tmp_path):
    proc, _ = start_sim(tmp_path, "--json", "--no-model")
    try:
        (line,) = read_lines(proc, 1)
        info = ask(line["port"], Hello())
        assert info.active_slot == 0xFF and {s.state for s in info.slots} == {SlotState.EMPTY}
    finally:
        assert stop(proc) == 0


def test_sim_default_model_does_not_overwrite_a_kept_state(tmp_path):
    """The default model is a factory image: a --state board that holds a model keeps it."""
    state = tmp_path / "state"
    runs = [("--model", str(bundled_model("gesture"))), ()]
    for args in runs:
        proc, _ = start_sim(tmp_path, "--json", "--state", str(state), *args)
        try:
            (line,) = read_lines(proc, 1)
            info = ask(line["port"], Hello())
            assert info.active_slot == 0 and info.slots[0].name == "gesture"
        finally:
            assert stop(proc) == 0


def test_sim_streams_results_without_a_model_given(env, tmp_path):
    """`fleet sim --boards 2`, then `fleet monitor`: results stream at once, no deploy first."""
    with sim_process(env, tmp_path, 2, "--seed", "5") as boards:
        uids = {b["uid"] for b in boards}

        def each_board_streams(events) -> bool:
            results = [e["uid"] for e in events if e["kind"] == "result"]
            return all(results.count(uid) >= 5 for uid in uids)

        events = monitor_until(env, tmp_path, each_board_streams, "5 results from each board")
    online = {e["uid"]: e["active"]["name"] for e in events if e["kind"] == "state" and e["state"] == "online"}
    assert online == dict.fromkeys(uids, "sine")


def test_sim_rejects_bad_arguments(tmp_path):
    proc, _ = start_sim(tmp_path, "--faults", "bogus=1")
    assert proc.wait(timeout=20) == 2 and "--faults" in proc.stderr.read()
    proc, _ = start_sim(tmp_path, "--profile", "arduino-uno")
    assert proc.wait(timeout=20) == 2
    proc, _ = start_sim(tmp_path, "--model", str(bundled_model("sine")), "--no-model")
    assert proc.wait(timeout=20) == 2 and "not allowed with argument" in proc.stderr.read()


def test_sim_reports_port_changes_under_disconnect_faults(tmp_path):
    proc, _ = start_sim(tmp_path, "--json", "--seed", "2", "--faults", "disconnect_every=0.3,reconnect_after=0.2")
    try:
        first, gone, back = read_lines(proc, 3)
        assert gone == {**first, "port": None}
        # A new PTY; the kernel may hand out the freed number again, as USB re-enumeration may.
        assert back == {**first, "port": back["port"]} and back["port"].startswith("/dev/")
    finally:
        assert stop(proc) == 0


def test_sim_stops_quietly_when_its_output_is_closed(tmp_path):
    # `fleet sim --json | head -1`: the next port change finds stdout closed. The sim stops
    # (boards unregistered) as a closed pipe stops other tools, without a traceback.
    proc, env = start_sim(tmp_path, "--json", "--seed", "2", "--faults", "disconnect_every=0.3,reconnect_after=0.2")
    try:
        read_lines(proc, 1)
        proc.stdout.close()
        assert proc.wait(timeout=30) == 141
        assert proc.stderr.read() == ""
        assert registered_boards(Path(env["FLEET_SIM_REGISTRY"])) == []
    finally:
        if proc.poll() is None:
            proc.kill()
