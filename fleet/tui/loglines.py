"""The log pane's lines: device LOG frames and fleet events, kept and filtered here."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from fleet.telemetry.events import DeployNotice, StateEvent

LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")  # the protocol's LogLevel order
BOOT_REASONS = {0: "power on", 1: "requested", 2: "watchdog", 3: "fault"}
MAX_LINES = 2000
FLEET = "fleet"  # the `board` of rollout-wide lines


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line: when (host time), which board, level 0..3, text."""

    time: float
    board: str
    level: int
    text: str

    @property
    def level_name(self) -> str:
        return LEVELS[min(max(self.level, 0), 3)]

    @classmethod
    def from_state(cls, event: StateEvent) -> LogLine:
        level = {"online": 1, "connecting": 1, "reconnecting": 2, "offline": 3, "conflict": 3}[event.state]
        text = f"{event.state} on {event.port}" if event.port else event.state
        if event.reason and event.state != "online":
            text += f": {event.reason}"
        return cls(event.host_time, event.board, level, text)


def deploy_line(notice: DeployNotice) -> LogLine | None:
    """The log line for a deploy step worth reading later (progress ticks are not)."""
    e = notice.event
    board = e.board or FLEET
    if e.event == "plan":
        text = f"deploy {e.model} {e.version} to {', '.join(e.boards or [])} ({e.strategy})"
        return LogLine(e.time, board, 1, text)
    if e.event == "done":
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted((e.summary or {}).items()))
        return LogLine(e.time, board, 1, f"deploy done: {summary}")
    if e.event in ("confirmed", "skipped", "preflight", "activated"):
        detail = f": {e.reason}" if e.reason else ""
        return LogLine(e.time, board, 1, f"deploy {e.event.replace('_', ' ')}{detail}")
    if e.event in ("rolled_back", "refused", "stopped"):
        return LogLine(e.time, board, 2, f"deploy {e.event.replace('_', ' ')}: {e.reason}")
    if e.event == "failed":
        return LogLine(e.time, board, 3, f"deploy failed: {e.reason}")
    return None


class LogStore:
    """The newest `MAX_LINES` lines, and the filter the pane shows them through."""

    def __init__(self, maxlen: int = MAX_LINES) -> None:
        self.lines: deque[LogLine] = deque(maxlen=maxlen)
        self.board: str | None = None  # show only this board's lines (and fleet-wide ones)
        self.min_level = 0

    def add(self, line: LogLine) -> LogLine:
        self.lines.append(line)
        return line

    def accepts(self, line: LogLine) -> bool:
        if line.level < self.min_level:
            return False
        return self.board is None or line.board in (self.board, FLEET)

    def visible(self) -> Iterator[LogLine]:
        return (line for line in self.lines if self.accepts(line))

    def next_level(self) -> str:
        """Cycle the minimum level shown; returns its name."""
        self.min_level = (self.min_level + 1) % len(LEVELS)
        return LEVELS[self.min_level]
