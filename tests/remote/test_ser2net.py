"""A board on another machine, exported by ser2net over RFC2217, behaves like a local one:
scan, deploy (resumed across a ser2net restart), monitor; and it is locked like one."""

from __future__ import annotations

import json
import socket
import time

import pytest

from fleet.models.bundled import bundled_model
from fleet.protocol import PROTOCOL_VERSION, Hello, encode_message
from tests.remote.commands import fleet, fleet_popen, write_devices
from tests.remote.daemons import HOST, Ser2Net, Sim, missing
from tests.support.cli import LiveMonitor
from tests.support.wait import DEADLINE_S

pytestmark = pytest.mark.system


def events(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def scan_until_ok(env, cwd) -> dict:
    """The board's scan row once a scan finds it free; fails if none does within the deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while (row := json.loads(fleet(env, cwd, "scan", "--json").stdout)["boards"][0])["status"] != "ok":
        assert time.monotonic() < deadline, row
        time.sleep(0.2)
    return row


def test_scan_deploy_and_monitor_through_ser2net(remote_board, env, tmp_path):
    sim, ser2net = remote_board
    write_devices(tmp_path, ser2net.url)

    scan = fleet(env, tmp_path, "scan", "--json")
    assert scan.returncode == 0, scan.stderr
    (row,) = json.loads(scan.stdout)["boards"]
    assert (row["name"], row["uid"], row["port"], row["status"], row["source"]) == (
        "remote1", sim.uid, ser2net.url, "ok", "config")

    deploy = fleet(env, tmp_path, "deploy", str(bundled_model("gesture")), "--to", "remote1", "--json")
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert [e["event"] for e in events(deploy.stdout)].count("confirmed") == 1

    monitor = LiveMonitor(env, tmp_path)
    try:
        monitor.wait_until(lambda seen: {"state", "result", "power"} <= {e["kind"] for e in seen},
                           "state, result and power events through ser2net")  # fmt: skip
    finally:
        code, stdout, err = monitor.stop()
    assert code == 0, err
    seen = events(stdout)
    assert {e["board"] for e in seen} == {"remote1"}
    states = [e for e in seen if e["kind"] == "state" and e["state"] == "online"]
    assert states and states[0]["port"] == ser2net.url and states[0]["active"]["name"] == "gesture"


def test_a_ser2net_restart_mid_transfer_is_survived_by_resume(remote_board, env, tmp_path):
    """A 65 KB model (gesture plus zero padding, which TFLite ignores) takes ~6 s at 115200:
    ser2net is stopped a third of the way in and started again a second later."""
    _sim, ser2net = remote_board
    write_devices(tmp_path, ser2net.url)
    model = tmp_path / "padded.tflite"
    model.write_bytes(bundled_model("gesture").read_bytes() + bytes(60_000))
    size = model.stat().st_size
    proc = fleet_popen(env, tmp_path, "deploy", str(model), "--to", "remote1", "--json")
    seen: list[dict] = []
    restarted_at = None
    try:
        for line in proc.stdout:
            event = json.loads(line)
            seen.append(event)
            if restarted_at is None and event.get("phase") == "uploading" and event["bytes"] >= size // 3:
                restarted_at = event["bytes"]
                ser2net.stop()  # the board's host daemon goes away mid-transfer ...
                time.sleep(1.0)
                ser2net.start()  # ... and comes back on the same port
        assert proc.wait(120) == 0, proc.stderr.read() + json.dumps(seen)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert restarted_at is not None, "the transfer ended before it could be interrupted"
    phases = [e.get("phase") for e in seen]
    assert "reconnecting" in phases and [e["event"] for e in seen].count("confirmed") == 1, seen
    after = phases.index("reconnecting")
    resumed = [e["bytes"] for e in seen[after:] if e.get("phase") == "uploading"]
    # MODEL_BEGIN answered with the offset the board already held: no byte went backwards.
    assert resumed and min(resumed) >= restarted_at, (restarted_at, resumed)


def test_a_board_in_use_is_refused_and_scan_shows_its_holder(remote_board, env, tmp_path):
    sim, ser2net = remote_board
    write_devices(tmp_path, ser2net.url)
    # Its output is read all along (LiveMonitor): a pipe left full would block its writes, and
    # with them its exit at the end.
    monitor = LiveMonitor(env, tmp_path)
    try:
        monitor.wait_until(lambda seen: any(e.get("state") == "online" for e in seen), "the monitor holds the board")
        pid = monitor.proc.pid
        scan = fleet(env, tmp_path, "scan", "--json")
        (row,) = json.loads(scan.stdout)["boards"]
        assert row["status"] == "busy"
        assert f"held by pid {pid} on " in row["error"] and "since" in row["error"], row["error"]
        table = fleet(env, tmp_path, "scan")
        assert f"busy (held by pid {pid}" in table.stdout

        deploy = fleet(env, tmp_path, "deploy", str(bundled_model("gesture")), "--to", "remote1", "--json")
        assert deploy.returncode != 0

        # Another host shares no lock directory: ser2net itself refuses the second client.
        elsewhere = env | {"FLEET_LOCK_DIR": str(tmp_path / "other-host-locks")}
        scan = fleet(elsewhere, tmp_path, "scan", "--json")
        (row,) = json.loads(scan.stdout)["boards"]
        assert row["status"] == "busy" and "Port already in use" in row["error"], row
    finally:
        monitor.stop()
    # The monitor is gone: the board is free again, for everyone (once ser2net has seen its
    # connection close, which it may take a moment to on a loaded machine).
    assert scan_until_ok(env, tmp_path)["uid"] == sim.uid


def test_a_plain_tcp_port_with_another_client_is_reported_busy(env, tmp_path):
    """socket://: ser2net accepts the second client, says "Port already in use" and closes;
    fleet's HELLO can race that close and lose the text to a TCP reset, so both paths count."""
    if reason := missing("ser2net"):
        pytest.skip(reason)
    sim = Sim(tmp_path, 115200, "--no-model")
    daemon = Ser2Net(tmp_path, sim.port, 115200, rfc2217=False)
    try:
        daemon.start()
        write_devices(tmp_path, daemon.url)
        with socket.create_connection((HOST, daemon.port), timeout=10) as holder:  # a client on another host
            holder.sendall(encode_message(Hello(PROTOCOL_VERSION, 1024), 1))
            answer = b""
            while b"\x00" not in answer[1:]:  # the board's INFO came back: ser2net serves this client
                answer += holder.recv(4096)
            for _ in range(3):
                scan = fleet(env, tmp_path, "scan", "--json")
                (row,) = json.loads(scan.stdout)["boards"]
                assert row["status"] == "busy", row
                assert row["error"] == f"{daemon.url}: busy (the server says: Port already in use)"
            monitor = fleet(env, tmp_path, "monitor", "--duration", "1")
            assert monitor.returncode == 1
            assert "no board could be reached" in monitor.stderr and "Port already in use" in monitor.stderr
        assert scan_until_ok(env, tmp_path)["uid"] == sim.uid  # the holder left: the board is free again
    finally:
        daemon.stop()
        sim.stop()


def test_monitor_reconnects_after_a_ser2net_restart(remote_board, env, tmp_path):
    """The board runs no model here, so power samples are what it streams."""
    _sim, ser2net = remote_board
    write_devices(tmp_path, ser2net.url)
    monitor = fleet_popen(env, tmp_path, "monitor", "--json", "--duration", "60")
    seen: list[dict] = []
    try:
        restarted = False
        for line in monitor.stdout:
            event = json.loads(line)
            seen.append(event)
            if not restarted and event["kind"] == "power":
                restarted = True
                ser2net.stop()
                time.sleep(1.0)
                ser2net.start()
            elif restarted and event["kind"] == "power" and any(e.get("state") == "reconnecting" for e in seen):
                break  # samples flow again after the reconnect
    finally:
        monitor.terminate()
        monitor.wait(30)
    states = [e["state"] for e in seen if e["kind"] == "state"]
    assert states[0] == "online" and "reconnecting" in states and states[-1] == "online", states
