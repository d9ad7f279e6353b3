"""Per-board locks: one fleet process per board; others are refused with the holder's pid,
host and start time; a dead holder's lock is taken over; `fleet scan` never opens a held board."""

from __future__ import annotations

import json
import os
import signal
import socket

import pytest

from fleet.config import Defaults, FleetConfig
from fleet.discovery import Candidate, probe
from fleet.errors import PortBusy
from fleet.transport.lock import BoardLock, holder_of, lock_dir, lock_key, lock_path, read_holder
from fleet.transport.serial import open_transport
from tests.support.sim import require_sim


@pytest.fixture(autouse=True)
def locks(tmp_path, monkeypatch):
    monkeypatch.setenv("FLEET_LOCK_DIR", str(tmp_path / "locks"))
    return tmp_path / "locks"


def test_keys_ignore_url_scheme_and_options_and_follow_symlinks(tmp_path):
    assert lock_key("rfc2217://Lab-1:7001?ign_set_control") == lock_key("socket://lab-1:7001") == "lab-1:7001"
    target = tmp_path / "ttyACM0"
    target.touch()
    (tmp_path / "by-id").symlink_to(target)
    assert lock_key(str(tmp_path / "by-id")) == str(target)
    assert lock_path("rfc2217://h:1").parent == lock_dir()
    assert lock_path("rfc2217://h:1") != lock_path("rfc2217://h:2")


def test_lock_dir_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv("FLEET_LOCK_DIR")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert lock_dir() == tmp_path / "fleet" / "locks"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert str(lock_dir()) == f"/tmp/fleet-{os.getuid()}/locks"


def test_a_held_board_is_refused_with_pid_host_and_since(lock_holder):
    holder = lock_holder("rfc2217://127.0.0.1:7001")
    with pytest.raises(PortBusy) as info:
        BoardLock("rfc2217://127.0.0.1:7001?ign_set_control").acquire()
    message = str(info.value)
    assert f"busy (held by pid {holder.pid} on {socket.gethostname()} since 20" in message
    assert f"pid {holder.pid}" in info.value.hint
    seen = holder_of("socket://127.0.0.1:7001")
    assert seen is not None and seen.pid == holder.pid


def test_the_lock_of_a_dead_process_is_taken_over(lock_holder, locks):
    holder = lock_holder("/dev/ttyFLEETTEST0")
    path = lock_path("/dev/ttyFLEETTEST0")
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    assert json.loads(path.read_text())["pid"] == holder.pid  # the file outlives its writer ...
    assert holder_of("/dev/ttyFLEETTEST0") is None  # ... but its flock died with it
    with BoardLock("/dev/ttyFLEETTEST0") as lock:
        assert lock.held and json.loads(path.read_text())["pid"] == os.getpid()
    assert not path.exists()  # released: removed
    assert holder_of("/dev/ttyFLEETTEST0") is None


def test_one_process_cannot_hold_a_board_twice_and_release_is_idempotent():
    first = BoardLock("socket://127.0.0.1:9").acquire()
    with pytest.raises(PortBusy, match=f"held by pid {os.getpid()}"):
        BoardLock("socket://127.0.0.1:9").acquire()
    first.release()
    first.release()
    BoardLock("socket://127.0.0.1:9").acquire().release()


async def test_scan_shows_a_board_held_elsewhere_as_busy_and_leaves_it_alone(lock_holder):
    require_sim()
    from fleet.sim.farm import FarmConfig, SimFarm

    # The board shares this loaded test process: a patient HELLO, so only "busy" can fail the probe.
    patient = FleetConfig(defaults=Defaults(hello_timeout_s=30))
    async with SimFarm(FarmConfig(boards=1, seed=3)) as farm:
        port = farm.boards[0].port
        candidate = Candidate(port, "config", 115200, "b1")
        assert (await probe(candidate, patient)).status == "ok"
        holder = lock_holder(port)
        result = await probe(candidate, patient)
        assert result.status == "busy" and f"held by pid {holder.pid}" in result.error
        with pytest.raises(PortBusy):
            await open_transport(port)
        holder.kill()
        holder.wait(10)
        transport = await open_transport(port)  # the holder died: taken over
        assert holder_of(port).pid == os.getpid()
        await transport.close()
        assert holder_of(port) is None


SECRETS = ["--mqtt", "mqtts://ann:s3cr%40t@broker.lab:8883", "--password", "hunter2", "--api-token=tok123",
           "--mqtt-password-file", "/run/fleet/mqtt-pw"]


def test_secrets_on_the_holders_command_line_are_neither_stored_nor_shown(lock_holder):
    lock_holder("socket://127.0.0.1:7002", "", 120, *SECRETS)
    stored = lock_path("socket://127.0.0.1:7002").read_text()
    with pytest.raises(PortBusy) as info:
        BoardLock("socket://127.0.0.1:7002").acquire()
    for text in (stored, str(info.value)):
        assert "s3cr" not in text and "hunter2" not in text and "tok123" not in text
        assert "mqtts://ann:***@broker.lab:8883 --password *** --api-token=***" in text
        assert "--mqtt-password-file /run/fleet/mqtt-pw" in text  # a file name is no secret


def test_a_lock_file_with_a_secret_in_it_is_shown_redacted(locks):
    # Written by a fleet that did not redact yet: what is read back is redacted all the same.
    path = lock_path("/dev/ttyFLEETTEST1")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": 1, "host": "h", "since": "2026", "key": "k",
                                "command": "fleet monitor --mqtt mqtt://u:pw@b:1883"}))  # fmt: skip
    assert read_holder(path).command == "fleet monitor --mqtt mqtt://u:***@b:1883"
