"""How figures read in the UI: one place, so the table, the detail screen and tests agree."""

from __future__ import annotations

from fleet.telemetry.events import LinkEvent
from fleet.telemetry.state import BoardState

DASH = "-"

STATE_STYLE = {"online": "green", "connecting": "yellow", "reconnecting": "yellow", "offline": "red",
               "conflict": "bold red"}  # fmt: skip


def number(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{value:,.{digits}f}"


def figure(value: float | None) -> str:
    """Three significant figures or so, in as few columns as that takes: 6.6, 33.7, 165, 3,308."""
    if value is None:
        return DASH
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def latency_ms(us: int | None) -> str:
    return DASH if us is None else f"{us / 1000:.2f}"


def link_health(link: LinkEvent | None) -> str:
    """`ok`, or what went wrong on the wire so far (errors and lost events)."""
    if link is None:
        return DASH
    problems = []
    if link.errors:
        problems.append(f"{link.errors} err")
    if link.events_dropped:
        problems.append(f"{link.events_dropped} drop")
    if link.retries:
        problems.append(f"{link.retries} retry")
    return ", ".join(problems) if problems else "ok"


def state_text(board: BoardState) -> str:
    """The state, with reconnect count when the board has come back before."""
    if board.state == "online" and board.reconnects:
        return f"online ↻{board.reconnects}"
    return board.state


def bytes_text(n: int | None) -> str:
    if n is None:
        return DASH
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} B"
