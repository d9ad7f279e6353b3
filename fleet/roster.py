"""Every board fleet knows of, answering or not: what `--to all` means.

A scan sees the boards that answer one HELLO right now. A board that is rebooting,
re-enumerating, unplugged for a moment, on a noisy line, or driven by another fleet process
does not answer, yet it is part of the fleet, and a rollout that silently leaves it out
reports success while that board keeps its old model. So the roster is:

- every board that answered the scan (`ok`),
- every port held by another fleet process (`busy`; the lock names the holder),
- every port of a uid that answered on more than one port (`conflict`: fleet cannot tell
  those boards apart, so a deploy refuses them; `fleet.discovery.flag_conflicts`),
- every board devices.toml names, every virtual board `fleet sim` runs (its registry entry
  stays while the board is unplugged) and every USB board a scan saw answer in the last
  `RECENT_S` seconds (`fleet scan`, `fleet deploy`; kept in the cache directory) that did
  not answer this time (`absent`).

An `absent` board is looked for by uid (or, without one, on its configured port) when it
is deployed to; one that does not turn up in time is reported `unreachable`.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from fleet.config import FleetConfig
from fleet.discovery import Candidate, ScanResult, board_for_uid, default_name, find_candidates, scan
from fleet.models.arena import cache_dir
from fleet.virtual_ports import registered_boards

Status = Literal["ok", "busy", "absent", "conflict"]
# A board a scan saw answer within this long is still expected: gone for good is the user's
# call (it is reported unreachable until then), not a silent guess.
RECENT_S = 600.0


@dataclass(frozen=True, slots=True)
class KnownBoard:
    """A board of the fleet; `uid` is None for a devices.toml board that never answered
    and has no uid configured; `port` is where it was last seen ("" if nowhere)."""

    name: str
    uid: str | None
    port: str
    baud: int
    status: Status
    tags: tuple[str, ...] = ()
    detail: str | None = None  # why it is not `ok`


@dataclass(frozen=True, slots=True)
class Registered:
    """A virtual board in the sim registry: uid, profile, port ("" while unplugged), baud."""

    uid: str
    profile: str
    port: str
    baud: int | None


@dataclass(frozen=True, slots=True)
class Seen:
    """A board a scan saw answer: where, and when (`at`, epoch seconds)."""

    uid: str
    name: str
    port: str
    baud: int
    tags: tuple[str, ...]
    at: float


def _seen_path() -> Path:
    return cache_dir() / "seen-boards.json"


def recent_boards(*, path: Path | None = None, now: float | None = None) -> list[Seen]:
    """Boards seen within RECENT_S, newest sighting per uid; an unreadable file is no sightings."""
    cutoff = (time.time() if now is None else now) - RECENT_S
    try:
        raw = json.loads((path or _seen_path()).read_text(encoding="utf-8"))
        seen = [Seen(str(e["uid"]), str(e["name"]), str(e["port"]), int(e["baud"]), tuple(map(str, e["tags"])),
                     float(e["at"])) for e in raw]  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [s for s in seen if s.at >= cutoff]


def seen_in(results: Iterable[ScanResult], now: float | None = None) -> list[Seen]:
    """The USB boards that answered in a scan, as sightings. (devices.toml names its boards,
    and the sim registry its virtual ones, which leave it when `fleet sim` stops.)"""
    at = time.time() if now is None else now
    return [Seen(r.uid, r.name, r.port, r.candidate.baud, r.tags, at)
            for r in results if r.status == "ok" and r.uid and r.candidate.source == "usb"]  # fmt: skip


def remember(seen: Iterable[Seen], *, path: Path | None = None, now: float | None = None) -> None:
    """Add sightings to the recent ones (dropping those too old), atomically."""
    path = path or _seen_path()
    merged = {s.uid: s for s in recent_boards(path=path, now=now)}
    cutoff = (time.time() if now is None else now) - RECENT_S
    merged.update({s.uid: s for s in seen if s.at >= cutoff})
    with contextlib.suppress(OSError):  # a read-only cache costs the memory, not the command
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps([asdict(s) for s in merged.values()]), encoding="utf-8")
        os.replace(tmp, path)


def _registry() -> list[Registered]:
    return [Registered(b.uid, b.profile, b.port, b.baud) for b in registered_boards(unplugged=True)]


async def known_boards(
    config: FleetConfig, *, registry: Callable[[], list[Registered]] = _registry,
    recent: Callable[[], list[Seen]] = recent_boards, results: list[ScanResult] | None = None,
) -> list[KnownBoard]:  # fmt: skip
    """Scan (unless `results` are given; the sightings are remembered) and return the
    roster, answering boards first."""
    if results is None:
        results = await scan(config, find_candidates(config))
        remember(seen_in(results))
    roster: list[KnownBoard] = []
    uids: set[str] = set()
    names: set[str] = set()

    def add(board: KnownBoard) -> None:
        if (board.uid and board.uid in uids) or board.name in names:
            return
        roster.append(board)
        names.add(board.name)
        if board.uid:
            uids.add(board.uid)

    # One entry per port claiming a conflicting uid, all under that uid: `--to` the uid, its
    # name or either port finds them, and nothing else stands in for that board.
    conflicts = [r for r in results if r.status == "conflict"]
    roster.extend(KnownBoard(r.name, r.uid, r.port, r.candidate.baud, "conflict", r.tags, r.error) for r in conflicts)
    names.update(r.name for r in conflicts)
    uids.update(r.uid for r in conflicts if r.uid)
    for r in results:
        if r.status == "ok":
            add(KnownBoard(r.name, r.uid, r.port, r.candidate.baud, "ok", r.tags))

    virtual = registry()
    sightings = sorted(recent(), key=lambda s: -s.at)
    names_for = _Identities(config, virtual, sightings)
    for r in results:
        if r.status in ("ok", "conflict"):
            continue
        c = r.candidate
        known = names_for(c)
        name, uid = (known.name, known.uid) if known else (None, None)
        if r.status == "busy":  # another fleet process drives it: a board, even if we cannot name it
            add(KnownBoard(name or c.port, uid, c.port, c.baud, "busy", c.tags, r.error))
        elif name is not None:  # a configured or virtual board that did not answer this time
            add(KnownBoard(name, uid, c.port, c.baud, "absent", c.tags, r.error or r.status))

    for name, board in config.boards.items():
        uid = board.uid.lower() if board.uid else None
        where = board.port or board.url or ""
        add(KnownBoard(name, uid, where, config.baud_for(board), "absent", board.tags,
                       f"{where or 'no port'} did not answer" if where else "not found on any port"))  # fmt: skip
    for v in virtual:
        add(KnownBoard(_name_for(config, v.uid, v.profile) or v.uid, v.uid, v.port, v.baud or config.defaults.baud,
                       "absent", detail="unplugged" if not v.port else f"{v.port} did not answer"))  # fmt: skip
    for s in sightings:
        add(KnownBoard(s.name, s.uid, s.port, s.baud, "absent", s.tags, f"seen on {s.port} lately, not answering now"))
    return roster


IdentitySource = Literal["devices.toml", "fleet sim", "seen lately"]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is expected on a port that did not answer, and who says so (never the board)."""

    name: str
    uid: str | None
    source: IdentitySource


class _Identities:
    """Names ports that did not answer from what fleet knows without asking the board: the
    devices.toml board the port matched, the `fleet sim` board registered on it (named as
    devices.toml names its uid, else as a scan would), or the board a scan saw there lately."""

    def __init__(self, config: FleetConfig, virtual: list[Registered], sightings: list[Seen]) -> None:
        self.config = config
        self.by_port = {v.port: v for v in virtual if v.port}
        self.seen_on = {s.port: s for s in reversed(sightings)}  # the latest sighting per port wins

    def __call__(self, c: Candidate) -> Identity | None:
        entry = self.by_port.get(c.port)
        configured = self.config.boards.get(c.name) if c.name else None
        uid = entry.uid if entry else (configured.uid.lower() if configured and configured.uid else None)
        if c.name:
            return Identity(c.name, uid, "devices.toml")
        if entry is not None:
            named = board_for_uid(self.config, entry.uid)
            if named is not None:
                return Identity(named[0], uid, "devices.toml")
            return Identity(default_name(entry.profile, entry.uid), uid, "fleet sim")
        if c.port in self.seen_on:  # not configured, not virtual: a board seen there lately
            seen = self.seen_on[c.port]
            return Identity(seen.name, seen.uid, "seen lately")
        return None


def identities(
    config: FleetConfig, results: Iterable[ScanResult], *,
    registry: Callable[[], list[Registered]] = _registry, recent: Callable[[], list[Seen]] = recent_boards,
) -> dict[str, Identity]:  # fmt: skip
    """By port, who is expected on each port that did not answer (busy, silent, failing),
    from devices.toml, the `fleet sim` registry and recent sightings: `fleet scan` shows
    a busy port's board this way, labelled with its source."""
    names_for = _Identities(config, registry(), sorted(recent(), key=lambda s: -s.at))
    found = {r.port: names_for(r.candidate) for r in results if r.status not in ("ok", "conflict")}
    return {port: known for port, known in found.items() if known is not None}


def _name_for(config: FleetConfig, uid: str | None, kind: str | None) -> str | None:
    """devices.toml's name for the uid, else the name a scan would give it."""
    if uid is None:
        return None
    named = board_for_uid(config, uid)
    return named[0] if named else default_name(kind, uid)
