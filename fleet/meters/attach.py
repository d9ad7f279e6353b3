"""Start reading the meters of a manager's boards, if there are any (what the CLI calls).

Light to import: numpy and the drivers load only when a meter is found.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from fleet.meters.discovery import MeterCandidate, find_meters
from fleet.telemetry.events import LogEvent

Report = Callable[[MeterCandidate, str], None]


def _to_stderr(candidate: MeterCandidate, why: str) -> None:
    print(f"fleet: {candidate.label} on {candidate.port} not read: {why}", file=sys.stderr)


def meter_note(candidate: MeterCandidate, why: str) -> LogEvent:
    """Why a meter is not read, as a WARN `log` event of the meter itself: named by its label
    (`board`, what a view and the MQTT topic show) and of no board (`uid` empty: no board's
    state or replay takes it)."""
    return LogEvent(board=candidate.label, uid="", host_time=time.time(), device_time_us=0, level=2,
                    text=f"on {candidate.port} not read: {why}")  # fmt: skip


async def attach_meters(manager, report: Report = _to_stderr):  # noqa: ANN001, ANN201
    """A running `MeterSet` for the meters of a `FleetManager`'s boards (None without any); why a
    meter is not read goes to `report` (stderr; a full-screen view publishes `meter_note`s)."""
    candidates = find_meters(manager.config)
    if not candidates:
        return None
    from fleet.meters.session import MeterSet

    meters = await MeterSet.attach(manager, candidates)
    for candidate, why in meters.skipped:
        report(candidate, why)
    return meters
