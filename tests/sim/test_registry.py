"""The board registry: atomic entries, stale ones cleaned, env override."""

from __future__ import annotations

import os
import subprocess
import sys

from fleet import virtual_ports as registry
from fleet.virtual_ports import RegisteredBoard, register, registered_boards


def entry(uid: str, pid: int, port: str) -> RegisteredBoard:
    return RegisteredBoard(port=port, uid=uid, profile="pico", pid=pid, baud=115200)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_live_entries_listed_stale_removed(tmp_path):
    port = tmp_path / "port"
    port.touch()
    register(entry("aa", os.getpid(), str(port)), tmp_path)
    stale = register(entry("bb", dead_pid(), str(port)), tmp_path)
    gone_port = register(entry("cc", os.getpid(), str(tmp_path / "unplugged")), tmp_path)
    (tmp_path / "junk.json").write_text("{not json")
    assert [b.uid for b in registered_boards(tmp_path)] == ["aa"]
    assert not stale.exists() and gone_port.exists() and not (tmp_path / "junk.json").exists()


def test_registry_dir_env_override(tmp_path, monkeypatch):
    monkeypatch.setenv(registry.ENV_VAR, str(tmp_path / "r"))
    assert registry.registry_dir() == tmp_path / "r"
    assert registered_boards() == []
    monkeypatch.delenv(registry.ENV_VAR)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert registry.registry_dir() == tmp_path / "fleet" / "sim"
