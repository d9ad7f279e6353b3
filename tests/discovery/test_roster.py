"""The roster: what `--to all` means. Every board fleet knows, answering or not."""

from __future__ import annotations

from pathlib import Path


from fleet.config import parse_config
from fleet.discovery import Candidate, ScanResult
from fleet.roster import Registered, known_boards


CONFIG = parse_config(
    """
[boards.bench-nano]
port = "/dev/ttyACM7"
uid = "00112233aabbccdd"

[boards.lab-pico]
match = { vid = 0x2E8A, serial = "E661" }
""",
    Path("devices.toml"),
)


def result(port: str, status: str, source: str = "virtual", name: str | None = None, error: str | None = None):
    candidate = Candidate(port, source, 115200, name, "esp32s3")  # type: ignore[arg-type]
    return ScanResult(candidate, status, error=error, name=name or "")  # type: ignore[arg-type]


async def test_boards_that_do_not_answer_are_still_in_the_roster():
    registry = [
        Registered("aaaa000000001111", "esp32s3", "/dev/pts/3", 921600),  # answered no HELLO this time
        Registered("bbbb000000002222", "pico", "", 115200),  # unplugged right now
        Registered("cccc000000003333", "nano33ble", "/dev/pts/5", 115200),  # held by `fleet monitor`
    ]
    results = [
        result("/dev/pts/3", "no answer", error="no answer to HELLO"),
        result("/dev/pts/5", "busy", error="/dev/pts/5: busy (held by pid 42 on lab since 2026-11-29: fleet monitor)"),
        result("/dev/ttyACM7", "no answer", source="config", name="bench-nano"),
    ]
    roster = {b.name: b for b in await known_boards(CONFIG, registry=lambda: registry, recent=list, results=results)}
    assert set(roster) == {"esp32s3-1111", "pico-2222", "nano33ble-3333", "bench-nano", "lab-pico"}
    assert (roster["esp32s3-1111"].status, roster["esp32s3-1111"].uid) == ("absent", "aaaa000000001111")
    assert (roster["pico-2222"].status, roster["pico-2222"].port) == ("absent", "")
    busy = roster["nano33ble-3333"]
    assert (busy.status, busy.uid) == ("busy", "cccc000000003333") and "fleet monitor" in busy.detail
    assert (roster["bench-nano"].uid, roster["bench-nano"].port) == ("00112233aabbccdd", "/dev/ttyACM7")
    assert (roster["lab-pico"].status, roster["lab-pico"].uid, roster["lab-pico"].port) == ("absent", None, "")


async def test_a_board_that_answers_is_listed_once_under_its_name():
    from fleet.protocol import Info, SlotInfo

    empty = SlotInfo(0, 0, bytes(32), "", "")
    info = Info(1, 0xFF, 256, 0, 1 << 16, 4096, 1 << 20, 64_000_000, bytes.fromhex("aaaa000000001111"), "esp32s3",
                "sim", (empty, empty))  # fmt: skip
    ok = result("/dev/pts/9", "ok")
    ok.info, ok.name = info, "esp32s3-1111"
    registry = [Registered("aaaa000000001111", "esp32s3", "/dev/pts/9", 921600)]
    roster = await known_boards(parse_config("", Path("devices.toml")), registry=lambda: registry, recent=list,
                                results=[ok])  # fmt: skip
    assert [(b.name, b.status, b.port) for b in roster] == [("esp32s3-1111", "ok", "/dev/pts/9")]

    # Sightings are kept for USB boards only: the registry knows the virtual ones.
    from fleet.roster import seen_in

    assert seen_in([ok]) == []
    usb = result("/dev/ttyACM3", "ok", source="usb")
    usb.info, usb.name = info, "esp32s3-1111"
    assert [(s.uid, s.port) for s in seen_in([usb], now=5.0)] == [("aaaa000000001111", "/dev/ttyACM3")]


async def test_a_board_a_recent_scan_saw_is_in_the_roster_and_names_its_busy_port(tmp_path):
    from fleet.roster import RECENT_S, Seen, recent_boards, remember

    now = 1_800_000_000.0
    path = tmp_path / "seen-boards.json"
    seen = [
        Seen("dddd000000004444", "nano33ble-4444", "/dev/ttyACM0", 115200, (), now - 120),  # re-enumerating now
        Seen("eeee000000005555", "pico-5555", "/dev/ttyACM1", 115200, (), now - 60),  # held by `fleet monitor`
        Seen("ffff000000006666", "pico-6666", "/dev/ttyACM2", 115200, (), now - RECENT_S - 1),  # long gone
    ]
    remember(seen, path=path, now=now)
    assert [s.uid for s in recent_boards(path=path, now=now)] == ["dddd000000004444", "eeee000000005555"]

    busy = result("/dev/ttyACM1", "busy", source="usb", error="/dev/ttyACM1: busy (held by pid 7: fleet monitor)")
    roster = await known_boards(parse_config("", Path("devices.toml")), registry=list, results=[busy],
                                recent=lambda: recent_boards(path=path, now=now))  # fmt: skip
    assert [(b.name, b.uid, b.status) for b in roster] == [
        ("pico-5555", "eeee000000005555", "busy"),
        ("nano33ble-4444", "dddd000000004444", "absent"),
    ]
