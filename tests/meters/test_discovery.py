"""Which meters fleet finds, which board each feeds, and that board discovery leaves them alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.cli.scan import ScanRow, meter_rows
from fleet.config import parse_config
from fleet.discovery import find_candidates
from fleet.meters.discovery import MeterCandidate, find_meters
from fleet.meters.registry import RegisteredMeter, register_meter, registered_meters, unregister_meter
from fleet.telemetry.power_source import source_kind
from tests.support.ports import FakePort

PORTS = [
    FakePort("/dev/ttyACM0", 0x2341, 0x805A, "ABC123"),  # a Nano 33 BLE
    FakePort("/dev/ttyACM5", 0x1915, 0xC00A, "C3A1F0E2"),  # a PPK2
    FakePort("/dev/ttyACM6", 0x0483, 0x5740, "LPM1"),  # ST's generic VCP: an LPM01A, or an ST board
    FakePort("/dev/ttyACM7", 0x0483, 0x5740, "NUCLEO9"),
]
TOML = """
[boards.lab]
port = "/dev/ttyACM0"

[[meters]]
kind = "lpm01a"
board = "lab"
match = { vid = 0x0483, pid = 0x5740, serial = "LPM1" }
"""


def test_meters_come_from_config_usb_and_the_sim_registry():
    config = parse_config(TOML, Path("devices.toml"))
    virtual = MeterCandidate("ppk2", "/dev/pts/7", "PPK00000001", "0a0b", "virtual", None)
    found = {m.port: m for m in find_meters(config, ports=lambda: PORTS, virtual=lambda: [virtual])}
    assert set(found) == {"/dev/ttyACM5", "/dev/ttyACM6", "/dev/pts/7"}
    lpm = found["/dev/ttyACM6"]
    assert (lpm.label, lpm.board, lpm.source, lpm.uses_marker) == ("meter:lpm01a LPM1", "lab", "usb", False)
    ppk2 = found["/dev/ttyACM5"]
    assert (ppk2.label, ppk2.board, ppk2.uses_marker) == ("meter:ppk2 C3A1F0E2", None, True)  # feeds no board yet
    assert found["/dev/pts/7"].board == "0a0b"


def test_a_meters_label_is_one_printable_word_whatever_its_usb_serial():
    # A USB serial is the device's text: with a space or an escape in it, every figure's
    # `source` would fail validation (the label is `meter:<kind> <serial>`).
    for serial, word in (("AB 12", "AB_12"), ("X\x1b[2J", "X\\x1b[2J"), ("", "_"), ("C3A1F0E2", "C3A1F0E2")):
        label = MeterCandidate("ppk2", "/dev/ttyACM0", serial, None, "usb", None).label
        assert label == f"meter:ppk2 {word}" and source_kind(label) == "meter"


def test_board_discovery_never_probes_a_meter():
    config = parse_config(TOML, Path("devices.toml"))
    ports = {c.port for c in find_candidates(config, ports=lambda: PORTS, virtual=lambda: [])}
    assert ports == {"/dev/ttyACM0", "/dev/ttyACM7"}  # not the PPK2, not the configured LPM01A
    unconfigured = {c.port for c in find_candidates(parse_config("", Path("d.toml")), ports=lambda: PORTS,
                                                     virtual=lambda: [])}  # fmt: skip
    assert "/dev/ttyACM5" not in unconfigured and "/dev/ttyACM6" in unconfigured  # an ST VCP may be a board


def test_scan_rows_name_the_board_each_meter_feeds():
    rows = [ScanRow(name="nano-1", uid="0a0b", kind="nano33ble", port="/dev/pts/3", source="virtual", status="ok")]
    meters = [MeterCandidate("ppk2", "/dev/pts/7", "P1", "0a0b", "virtual", None),
              MeterCandidate("ppk2", "/dev/ttyACM5", "P2", None, "usb", None)]  # fmt: skip
    assert [(m.meter, m.board) for m in meter_rows(meters, rows)] == [("meter:ppk2 P1", "nano-1"), ("meter:ppk2 P2", None)]


def test_the_registry_keeps_live_meters_and_drops_stale_ones(tmp_path):
    port = tmp_path / "pts7"
    port.touch()
    register_meter(RegisteredMeter(kind="ppk2", port=str(port), serial="P1", board_uid="0a", pid=__import__("os").getpid()),
                   tmp_path)  # fmt: skip
    register_meter(RegisteredMeter(kind="ppk2", port=str(port), serial="P2", board_uid="0b", pid=2**22 + 1), tmp_path)
    assert [m.serial for m in registered_meters(tmp_path)] == ["P1"]
    assert not (tmp_path / "P2.meter").exists()
    unregister_meter("P1", tmp_path)
    assert registered_meters(tmp_path) == []


def test_config_refuses_a_meter_it_cannot_find_or_use():
    with pytest.raises(Exception, match="a port or a USB match"):
        parse_config('[[meters]]\nkind = "ppk2"\nboard = "lab"\n', Path("d.toml"))
    with pytest.raises(Exception, match="samples no marker"):
        parse_config('[[meters]]\nkind = "lpm01a"\nboard = "lab"\nport = "/dev/x"\nmarker = true\n', Path("d.toml"))
