"""Discovery: which ports may be boards, and what answers on them.

Opening a serial port can reset a board or disturb a device that is not ours, so only
these are ever probed: USB ports that match a devices.toml rule or carry a known TinyML
board / USB-UART vendor ID, ports and URLs named in devices.toml, and virtual boards
registered by `fleet sim`. Every other port is left alone, not even opened.

A probe opens the port, says HELLO (twice at most, `hello_timeout_s` each: as long as a
request waits, since a board answers only between inferences) and RUNTIME, to a board that
declares it, and closes it. Boards are known by the uid they report, never by their port
name, which changes on re-enumeration.

A uid is a board's claim, not a proof: when one scan hears the same uid on two ports, both
results become `conflict` (`flag_conflicts`), naming the other ports, and nothing treats
either of them as that board.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from serial.tools import list_ports

from fleet.client import BoardClient
from fleet.config import Board, FleetConfig, UsbMatch
from fleet.errors import FleetError, PortBusy, RequestTimeout, UidConflict
from fleet.meters.discovery import is_meter_port
from fleet.profiles import load_profiles
from fleet.protocol import Info, RuntimeInfo
from fleet.transport.lock import PROBE
from fleet.transport.serial import open_transport
from fleet.virtual_ports import registered_boards

# USB vendors whose ports are worth a HELLO: board makers and the USB-UART bridges boards use.
KNOWN_USB_VENDORS: dict[int, str] = {
    0x2341: "Arduino",
    0x2A03: "Arduino",
    0x303A: "Espressif",
    0x2E8A: "Raspberry Pi",
    0x0483: "STMicroelectronics",
    0x1915: "Nordic Semiconductor",
    0x1366: "SEGGER J-Link",
    0x0D28: "Arm DAPLink",
    0x239A: "Adafruit",
    0x2886: "Seeed",
    0x1B4F: "SparkFun",
    0x0403: "FTDI USB-UART",
    0x10C4: "Silicon Labs CP210x",
    0x1A86: "WCH CH34x",
    0x067B: "Prolific PL2303",
}

Source = Literal["usb", "config", "virtual"]


@dataclass(frozen=True, slots=True)
class UsbIdentity:
    vid: int
    pid: int
    serial: str | None = None
    location: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A port or URL that may have a board on it, and why we think so."""

    port: str
    source: Source
    baud: int
    name: str | None = None  # the devices.toml board it matched
    profile: str | None = None
    usb: UsbIdentity | None = None
    tags: tuple[str, ...] = ()


@dataclass(slots=True)
class ScanResult:
    """What a probe found on one candidate. A `conflict` answered, but with a uid that
    another port of the same scan answered with too (`info` is what it claimed)."""

    candidate: Candidate
    status: Literal["ok", "no answer", "busy", "error", "conflict"]
    info: Info | None = None
    error: str | None = None
    name: str = ""
    runtime: RuntimeInfo | None = None  # what it can run, if it declares RUNTIME
    tags: tuple[str, ...] = field(default=())

    conflict: UidConflict | None = None  # with `conflict`: the uid and every port claiming it

    @property
    def uid(self) -> str | None:
        return self.info.uid.hex() if self.info else None

    @property
    def port(self) -> str:
        return self.candidate.port


def usb_matches(rule: UsbMatch, usb: UsbIdentity) -> bool:
    """Every field the rule gives must equal the port's (serial numbers compare case-blind)."""
    return (
        (rule.vid is None or rule.vid == usb.vid)
        and (rule.pid is None or rule.pid == usb.pid)
        and (rule.serial is None or (usb.serial or "").lower() == rule.serial.lower())
        and (rule.location is None or rule.location == usb.location)
    )


def profile_for_usb(usb: UsbIdentity) -> str | None:
    for profile in load_profiles().values():
        if (usb.vid, usb.pid) in profile.usb:
            return profile.name
    return None


def usb_ports(ports: Iterable[object]) -> list[tuple[str, UsbIdentity]]:
    """(device, USB identity) of every USB serial port in a `list_ports.comports()` answer."""
    found = []
    for p in ports:
        vid, pid = getattr(p, "vid", None), getattr(p, "pid", None)
        if vid is None or pid is None:
            continue
        usb = UsbIdentity(vid, pid, getattr(p, "serial_number", None), getattr(p, "location", None),
                          getattr(p, "description", None))  # fmt: skip
        found.append((p.device, usb))
    return found


def _registered_virtual_boards() -> list[tuple[str, str, int]]:
    """(port, profile, baud) of boards registered by `fleet sim` processes that are alive."""
    return [(b.port, b.profile, b.baud) for b in registered_boards()]


def find_candidates(
    config: FleetConfig,
    *,
    ports: Callable[[], Iterable[object]] = list_ports.comports,
    virtual: Callable[[], list[tuple[str, str, int]]] = _registered_virtual_boards,
) -> list[Candidate]:
    """Every port worth probing, without opening any of them."""
    candidates: dict[str, Candidate] = {}

    def add(c: Candidate) -> None:
        key = c.port if "://" in c.port else os.path.realpath(c.port)
        candidates.setdefault(key, c)

    # Explicit ports and URLs first, so their names and settings win over USB guesses.
    for name, board in config.boards.items():
        target = board.port or board.url
        if target:
            add(Candidate(target, "config", config.baud_for(board), name, board.profile, tags=board.tags))

    rules = [(name, b) for name, b in config.boards.items() if b.match is not None]
    for device, usb in usb_ports(ports()):
        if is_meter_port(config, device, usb):
            continue  # a power meter: a HELLO would be garbage to it (fleet.meters.discovery)
        matched = next(((n, b) for n, b in rules if b.match is not None and usb_matches(b.match, usb)), None)
        if matched is not None:
            name, board = matched
            add(Candidate(device, "usb", config.baud_for(board), name, board.profile or profile_for_usb(usb), usb,
                          board.tags))  # fmt: skip
        elif usb.vid in KNOWN_USB_VENDORS:
            add(Candidate(device, "usb", config.defaults.baud, None, profile_for_usb(usb), usb))

    for port, profile, baud in virtual():
        add(Candidate(port, "virtual", baud or config.defaults.baud, None, profile))  # an unpaced board: any rate
    return list(candidates.values())


def board_for_uid(config: FleetConfig, uid: str) -> tuple[str, Board] | None:
    for name, board in config.boards.items():
        if board.uid == uid:
            return name, board
    return None


def default_name(kind: str | None, uid: str) -> str:
    """A readable name for a board devices.toml does not name: its kind and uid tail (hex)."""
    return f"{kind or 'board'}-{uid[-4:] or 'noid'}"


async def probe(candidate: Candidate, config: FleetConfig) -> ScanResult:
    """Open the candidate, say HELLO, close. Never raises for an absent or silent board."""
    result = ScanResult(candidate, "error", name=candidate.name or "", tags=candidate.tags)
    try:
        transport = await open_transport(candidate.port, candidate.baud, purpose=PROBE)
        client = await BoardClient.connect(
            transport, hello_timeout=config.defaults.hello_timeout_s, retries=1, name=candidate.port
        )
    except PortBusy as exc:  # held by another fleet process, or a ser2net port with another client
        result.status, result.error = "busy", str(exc)
        return result
    except RequestTimeout:
        result.status, result.error = "no answer", "no answer to HELLO: not a fleet board, or wrong baud rate"
        return result
    except FleetError as exc:
        result.error = str(exc)
        return result
    try:
        result.runtime = await client.runtime()
    except FleetError as exc:  # the board is there; only what it can run is unknown
        result.error = f"no answer to RUNTIME: {exc}"
    finally:
        await client.close()
    info = client.info
    assert info is not None
    result.status, result.info = "ok", info
    named = board_for_uid(config, info.uid.hex())
    if named is not None:
        result.name, result.tags = named[0], named[1].tags
    result.name = result.name or default_name(info.board_kind, info.uid.hex())
    return result


def flag_conflicts(results: list[ScanResult], elsewhere: dict[str, str] | None = None) -> dict[str, UidConflict]:
    """Turn every `ok` result whose uid answered on another port too into a `conflict`.

    `elsewhere` maps uids to a port where they are known to answer right now although this
    scan did not probe it (the manager's live connections). Returns the conflicts by uid.
    """
    ports: dict[str, list[str]] = {}
    for r in results:
        if r.status == "ok" and r.uid is not None:
            ports.setdefault(r.uid, []).append(r.port)
    conflicts: dict[str, UidConflict] = {}
    for uid, where in ports.items():
        if elsewhere and uid in elsewhere:
            where = [elsewhere[uid], *where]
        if len(where) > 1:
            conflicts[uid] = UidConflict(uid, tuple(where))
    for r in results:
        if r.status == "ok" and r.uid in conflicts:
            r.status, r.conflict = "conflict", conflicts[r.uid]
            r.error = str(r.conflict)
    return conflicts


async def scan(config: FleetConfig, candidates: list[Candidate] | None = None) -> list[ScanResult]:
    """Probe every candidate concurrently; one entry per candidate, in candidate order.
    Ports that answer with the same uid are flagged `conflict` (`flag_conflicts`)."""
    if candidates is None:
        candidates = find_candidates(config)
    results = list(await asyncio.gather(*(probe(c, config) for c in candidates)))
    flag_conflicts(results)
    return results
