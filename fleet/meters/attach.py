"""Start reading the meters of a manager's boards, if there are any (what the CLI calls).

Light to import: numpy and the drivers load only when a meter is found.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from fleet.meters.discovery import find_meters


def _to_stderr(text: str) -> None:
    print(f"fleet: {text}", file=sys.stderr)


async def attach_meters(manager, report: Callable[[str], None] = _to_stderr):  # noqa: ANN001, ANN201
    """A running `MeterSet` for the meters of a `FleetManager`'s boards (None without any); why a
    meter is not read goes to `report` (stderr; a full-screen view passes its own)."""
    candidates = find_meters(manager.config)
    if not candidates:
        return None
    from fleet.meters.session import MeterSet

    meters = await MeterSet.attach(manager, candidates)
    for candidate, why in meters.skipped:
        report(f"{candidate.label} on {candidate.port} not read: {why}")
    return meters
