"""`fleet scan`: find the boards fleet can reach and say what each is running.

A port that cannot be opened (busy) or does not answer still shows the board devices.toml,
the `fleet sim` registry or a recent scan expects there, marked as such ("lab-1
(devices.toml)"; `name_from` in JSON): that name is fleet's expectation, not the board's
answer. A uid that answers on two ports is a `conflict` on both, and the exit code is 1:
fleet cannot tell those boards apart (docs/architecture.md, "Board identity").
"""

from __future__ import annotations

import argparse
import asyncio

from pydantic import BaseModel

from fleet.cli.main import EXIT_FAILED, report
from fleet.cli.output import print_json, print_table
from fleet.config import load_config
from fleet.deploy.preflight import runtime_operators
from fleet.discovery import ScanResult, scan
from fleet.meters.discovery import MeterCandidate, find_meters
from fleet.protocol import SlotState
from fleet.roster import Identity, identities, remember, seen_in


class ScanRow(BaseModel):
    """One probed port, as `fleet scan --json` prints it."""

    name: str
    uid: str | None
    kind: str | None
    port: str
    source: str
    status: str  # ok, busy, no answer, error, conflict (its uid answers on another port too)
    # Where the name (and uid) of a board that did not answer come from: devices.toml, fleet sim
    # (its registry) or "seen lately" (a recent scan); None: the board's own answer.
    name_from: str | None = None
    firmware: str | None = None
    protocol: int | None = None
    model: str | None = None
    model_version: str | None = None
    model_sha256: str | None = None
    model_state: str | None = None
    runtime: str | None = None  # the board's RUNTIME answer: its runtime and the operators it can run
    operators: list[str] | None = None
    tags: list[str] = []
    error: str | None = None


class MeterRow(BaseModel):
    """A power meter found (never opened by a scan) and the board it feeds."""

    meter: str  # its power source label, e.g. "meter:ppk2 C3A1F0E2"
    kind: str
    port: str
    source: str  # config, usb, virtual
    board: str | None  # the board's name when the scan found it, else what devices.toml names; None: unassigned


class ScanReport(BaseModel):
    boards: list[ScanRow]
    meters: list[MeterRow] = []


def meter_rows(candidates: list[MeterCandidate], rows: list[ScanRow]) -> list[MeterRow]:
    names = {r.uid: r.name for r in rows if r.uid} | {r.name: r.name for r in rows}
    return [MeterRow(meter=c.label, kind=c.kind, port=c.port, source=c.source,
                     board=names.get(c.board, c.board) if c.board else None) for c in candidates]  # fmt: skip


def row_for(result: ScanResult, expected: Identity | None = None) -> ScanRow:
    """`result` as a row; `expected` names a board that did not answer (`fleet.roster.identities`)."""
    info = result.info
    row = ScanRow(
        name=result.name, uid=result.uid, kind=info.board_kind if info else result.candidate.profile,
        port=result.candidate.port, source=result.candidate.source, status=result.status, tags=list(result.tags),
        error=result.error,
    )  # fmt: skip
    if expected is not None:
        row.name, row.uid, row.name_from = expected.name, expected.uid, expected.source
    if info is not None:
        row.firmware, row.protocol = info.firmware_version, info.proto_version
        if result.runtime is not None:
            row.runtime, row.operators = result.runtime.runtime, sorted(runtime_operators(result.runtime))
        active = info.active
        if active is not None:
            row.model, row.model_version = active.name, active.version
            row.model_sha256, row.model_state = active.sha256.hex(), SlotState(active.state).name.lower()
    return row


def _name_cell(row: ScanRow) -> str:
    return f"{row.name} ({row.name_from})" if row.name_from else row.name


def _model_cell(row: ScanRow) -> str | None:
    """The model's name; one still on trial (PENDING, not confirmed) says so: after a reset
    the board boots its previous model instead."""
    if row.status not in ("ok", "conflict"):
        return None
    if not row.model:
        return "(none)"
    return f"{row.model} (pending)" if row.model_state == "pending" else row.model


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    results = asyncio.run(scan(config))
    remember(seen_in(results))  # `fleet deploy --to all` expects these boards for a while
    expected = identities(config, results)
    rows = [row_for(r, expected.get(r.port)) for r in results]
    meters = meter_rows(find_meters(config), rows)
    conflicts = {r.conflict.uid: r.conflict for r in results if r.conflict is not None}
    if args.json:
        print_json(ScanReport(boards=rows, meters=meters))
    elif not rows and not meters:
        print("no boards found: none on known USB ports, none in devices.toml, no `fleet sim` running")
    else:
        print_table(
            ["NAME", "UID", "KIND", "PORT", "FIRMWARE", "MODEL", "VERSION", "STATUS"],
            [
                [_name_cell(r), r.uid, r.kind, r.port, r.firmware, _model_cell(r), r.model_version,
                 r.status if r.status in ("ok", "conflict") else r.error or r.status]
                for r in rows
            ],
        )  # fmt: skip
        if meters:
            print()
            print_table(["METER", "PORT", "SOURCE", "FEEDS"], [[m.meter, m.port, m.source, m.board or "(no board)"] for m in meters])
    for conflict in conflicts.values():  # what was found is printed; that it is not one board is an error
        report(conflict)
    return EXIT_FAILED if conflicts else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scan", help="find boards and show what they run", description=__doc__)
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run)
