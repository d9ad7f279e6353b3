"""Every board fleet knows of, answering or not: what `--to all` means.

A scan sees the boards that answer one HELLO right now. A board that is rebooting,
re-enumerating, unplugged for a moment, on a noisy line, or driven by another fleet process
does not answer, yet it is part of the fleet, and a rollout that silently leaves it out
reports success while that board keeps its old model. So the roster is:

- every board that answered the scan (`ok`),
- every port held by another fleet process (`busy`; the lock names the holder),
- every board devices.toml names and every virtual board `fleet sim` runs (its registry
  entry stays while the board is unplugged) that did not answer (`absent`).

An `absent` board is looked for by uid (or, without one, on its configured port) when it
is deployed to; one that does not turn up in time is reported `unreachable`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from fleet.config import FleetConfig
from fleet.discovery import ScanResult, board_for_uid, default_name, find_candidates, scan

Status = Literal["ok", "busy", "absent"]


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
    result: ScanResult | None = None


@dataclass(frozen=True, slots=True)
class Registered:
    """A virtual board in the sim registry: uid, profile, port ("" while unplugged), baud."""

    uid: str
    profile: str
    port: str
    baud: int | None


def _registry() -> list[Registered]:
    from fleet.sim.registry import registered_boards  # the registry is tiny; imported here to keep sim optional

    return [Registered(b.uid, b.profile, b.port, b.baud) for b in registered_boards(unplugged=True)]


async def known_boards(
    config: FleetConfig, *, registry: Callable[[], list[Registered]] = _registry, results: list[ScanResult] | None = None
) -> list[KnownBoard]:
    """Scan (unless `results` are given) and return the roster, answering boards first."""
    if results is None:
        results = await scan(config, find_candidates(config))
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

    for r in results:
        if r.status == "ok":
            add(KnownBoard(r.name, r.uid, r.port, r.candidate.baud, "ok", r.tags, result=r))

    virtual = registry()
    by_port = {v.port: v for v in virtual if v.port}
    for r in results:
        if r.status == "ok":
            continue
        c = r.candidate
        entry = by_port.get(c.port)
        configured = config.boards.get(c.name) if c.name else None
        uid = entry.uid if entry else (configured.uid.lower() if configured and configured.uid else None)
        name = c.name or _name_for(config, uid, entry.profile if entry else c.profile)
        if r.status == "busy":  # another fleet process drives it: a board, even if we cannot name it
            add(KnownBoard(name or c.port, uid, c.port, c.baud, "busy", c.tags, r.error, r))
        elif name is not None:  # a configured or virtual board that did not answer this time
            add(KnownBoard(name, uid, c.port, c.baud, "absent", c.tags, r.error or r.status, r))

    for name, board in config.boards.items():
        uid = board.uid.lower() if board.uid else None
        where = board.port or board.url or ""
        add(KnownBoard(name, uid, where, config.baud_for(board), "absent", board.tags,
                       f"{where or 'no port'} did not answer" if where else "not found on any port"))  # fmt: skip
    for v in virtual:
        add(KnownBoard(_name_for(config, v.uid, v.profile) or v.uid, v.uid, v.port, v.baud or config.defaults.baud,
                       "absent", detail="unplugged" if not v.port else f"{v.port} did not answer"))  # fmt: skip
    return roster


def _name_for(config: FleetConfig, uid: str | None, kind: str | None) -> str | None:
    """devices.toml's name for the uid, else the name a scan would give it."""
    if uid is None:
        return None
    named = board_for_uid(config, uid)
    return named[0] if named else default_name(kind, uid)
