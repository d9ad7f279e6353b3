"""The roster: what `--to all` means. Every board fleet knows, answering or not."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.config import parse_config
from fleet.discovery import Candidate, ScanResult
from fleet.roster import Registered, known_boards

pytestmark = pytest.mark.asyncio

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
    return ScanResult(Candidate(port, source, 115200, name, "esp32s3"), status, error=error, name=name or "")  # type: ignore[arg-type]


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
    roster = {b.name: b for b in await known_boards(CONFIG, registry=lambda: registry, results=results)}
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
    roster = await known_boards(parse_config("", Path("devices.toml")), registry=lambda: registry, results=[ok])
    assert [(b.name, b.status, b.port) for b in roster] == [("esp32s3-1111", "ok", "/dev/pts/9")]
