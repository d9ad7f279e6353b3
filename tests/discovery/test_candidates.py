"""Which ports discovery is willing to open: known boards, configured ones, virtual ones; never others."""

from pathlib import Path

from fleet.config import parse_config
from fleet.discovery import find_candidates
from tests.support.ports import FakePort


PORTS = [
    FakePort("/dev/ttyACM0", 0x2341, 0x805A, "ABC123", "1-1.1"),  # Nano 33 BLE
    FakePort("/dev/ttyACM1", 0x2E8A, 0x000A, "E661", "1-1.2"),  # Pico
    FakePort("/dev/ttyUSB0", 0x0403, 0x6001, "FT1", "1-1.3"),  # FTDI bridge
    FakePort("/dev/ttyUSB1", 0x1234, 0x5678, "X", "1-1.4"),  # a GPS, a modem: not ours
    FakePort("/dev/ttyS0", None, None),  # a legacy UART
]


def candidates(toml: str, virtual=()):
    cfg = parse_config(toml, Path("devices.toml"))
    return {c.port: c for c in find_candidates(cfg, ports=lambda: PORTS, virtual=lambda: list(virtual))}


def test_known_vendors_are_candidates_and_unknown_ports_are_never_touched():
    found = candidates("")
    assert set(found) == {"/dev/ttyACM0", "/dev/ttyACM1", "/dev/ttyUSB0"}
    assert found["/dev/ttyACM0"].profile == "nano33ble"
    assert found["/dev/ttyACM1"].profile == "pico"
    assert found["/dev/ttyUSB0"].profile is None


def test_config_match_names_an_unknown_vendor_port_and_sets_its_baud():
    found = candidates(
        "[boards.gps-board]\nmatch = { vid = 0x1234, serial = 'x' }\nbaud = 921600\nprofile = 'esp32s3'\ntags = ['lab']\n"
    )
    c = found["/dev/ttyUSB1"]
    assert (c.name, c.baud, c.profile, c.tags, c.source) == ("gps-board", 921600, "esp32s3", ("lab",), "usb")


def test_explicit_ports_and_urls_are_candidates():
    found = candidates("[boards.remote]\nurl = 'rfc2217://127.0.0.1:7001'\n[boards.fixed]\nport = '/dev/ttyS0'\n")
    assert found["rfc2217://127.0.0.1:7001"].name == "remote"
    assert found["/dev/ttyS0"].source == "config"


def test_virtual_boards_are_candidates():
    found = candidates("", virtual=[("/dev/pts/9", "pico", 115200)])
    assert found["/dev/pts/9"].source == "virtual"
    assert found["/dev/pts/9"].profile == "pico"
