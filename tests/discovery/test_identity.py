"""A uid is a board's claim: one uid on two ports is a conflict, never one board; and a port
that does not answer is named from what fleet knows, marked as such, never as the board's answer."""

from __future__ import annotations

from pathlib import Path

from fleet.config import parse_config
from fleet.discovery import Candidate, ScanResult, flag_conflicts
from fleet.errors import UidConflict
from fleet.protocol import Info, SlotInfo
from fleet.roster import Identity, Registered, Seen, identities, known_boards
from fleet.targets import select

CONFIG = parse_config(
    """
[boards.bench-nano]
port = "/dev/ttyACM7"

[boards.lab-1]
uid = "cccc000000003333"
""",
    Path("devices.toml"),
)
UID = "aaaa000000001111"


def answered(port: str, uid: str = UID) -> ScanResult:
    empty = SlotInfo(0, 0, bytes(32), "", "")
    info = Info(1, 0xFF, 256, 0, 1 << 16, 4096, 1 << 20, 64_000_000, bytes.fromhex(uid), "esp32s3", "sim",
                (empty, empty))  # fmt: skip
    return ScanResult(Candidate(port, "virtual", 115200, None, "esp32s3"), "ok", info, name=f"esp32s3-{uid[-4:]}")


def silent(port: str, status: str, source: str = "virtual", name: str | None = None) -> ScanResult:
    return ScanResult(Candidate(port, source, 115200, name, "esp32s3"), status, error=f"{port}: {status}")  # type: ignore[arg-type]


def test_one_uid_on_two_ports_flags_both_and_names_both_ports():
    results = [answered("/dev/pts/3"), answered("/dev/pts/4"), answered("/dev/pts/5", "bbbb000000002222")]
    conflicts = flag_conflicts(results)
    assert list(conflicts) == [UID] and conflicts[UID].ports == ("/dev/pts/3", "/dev/pts/4")
    assert [r.status for r in results] == ["conflict", "conflict", "ok"]
    for r in results[:2]:
        assert isinstance(r.conflict, UidConflict)
        assert r.error is not None and "/dev/pts/3" in r.error and "/dev/pts/4" in r.error and UID in r.error


def test_a_uid_already_connected_elsewhere_is_a_conflict_too():
    """The manager does not probe the ports it holds: a live connection counts as an answer."""
    results = [answered("/dev/pts/4")]
    conflicts = flag_conflicts(results, {UID: "/dev/pts/3"})
    assert conflicts[UID].ports == ("/dev/pts/3", "/dev/pts/4") and results[0].status == "conflict"
    assert flag_conflicts([answered("/dev/pts/9", "bbbb000000002222")], {UID: "/dev/pts/3"}) == {}


async def test_the_roster_lists_every_port_of_a_conflict_and_none_as_ok():
    """Before: the roster kept the first port's board as `ok` under the uid and dropped the
    other, so `fleet deploy --to UID` went to whichever port answered first."""
    results = [answered("/dev/pts/3"), answered("/dev/pts/4")]
    flag_conflicts(results)
    roster = await known_boards(CONFIG, registry=list, recent=list, results=results)
    claims = [b for b in roster if b.uid == UID]
    assert [(b.port, b.status) for b in claims] == [("/dev/pts/3", "conflict"), ("/dev/pts/4", "conflict")]
    assert all("answers on 2 ports" in (b.detail or "") for b in claims)
    assert {b.port for b in select(roster, CONFIG, UID[:6])} == {"/dev/pts/3", "/dev/pts/4"}


def test_a_port_that_does_not_answer_is_named_from_what_fleet_knows():
    registry = [Registered("cccc000000003333", "nano33ble", "/dev/pts/5", 115200),
                Registered("dddd000000004444", "pico", "/dev/pts/6", 115200)]  # fmt: skip
    sightings = [Seen("eeee000000005555", "esp32s3-5555", "/dev/ttyUSB0", 115200, (), 1.0)]
    results = [
        silent("/dev/pts/5", "busy"),  # a sim board devices.toml names by uid, held by another process
        silent("/dev/pts/6", "no answer"),  # a sim board devices.toml does not name
        silent("/dev/ttyACM7", "busy", "config", "bench-nano"),  # devices.toml names the port
        silent("/dev/ttyUSB0", "busy", "usb"),  # a USB board a scan saw there lately
        silent("/dev/ttyUSB1", "busy", "usb"),  # nothing known
        answered("/dev/pts/9"),  # answers itself: not named from elsewhere
    ]
    found = identities(CONFIG, results, registry=lambda: registry, recent=lambda: sightings)
    assert found == {
        "/dev/pts/5": Identity("lab-1", "cccc000000003333", "devices.toml"),
        "/dev/pts/6": Identity("pico-4444", "dddd000000004444", "fleet sim"),
        "/dev/ttyACM7": Identity("bench-nano", None, "devices.toml"),
        "/dev/ttyUSB0": Identity("esp32s3-5555", "eeee000000005555", "seen lately"),
    }

