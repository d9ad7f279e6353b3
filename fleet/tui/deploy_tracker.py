"""Deploy progress per board, folded from DeployEvents: what the deploy panel draws."""

from __future__ import annotations

from dataclasses import dataclass

from fleet.deploy.events import DeployEvent

OUTCOMES = frozenset({"confirmed", "skipped", "refused", "rolled_back", "failed", "stopped", "busy", "unreachable", "unknown"})


@dataclass(slots=True)
class BoardProgress:
    """One board in the current rollout."""

    board: str
    phase: str = "waiting"
    sent: int = 0
    total: int = 0
    outcome: str | None = None
    reason: str | None = None


class DeployTracker:
    """The current (or last) rollout: its plan, each board's progress and the outcome."""

    def __init__(self) -> None:
        self.model: str | None = None
        self.strategy: str | None = None
        self.boards: dict[str, BoardProgress] = {}
        self.summary: dict[str, int] | None = None
        self.size = 0

    @property
    def active(self) -> bool:
        return self.model is not None and self.summary is None

    def apply(self, e: DeployEvent) -> None:
        if e.event == "plan":
            self.model = f"{e.model} {e.version}"
            self.strategy = e.strategy
            self.size = e.total or 0
            self.summary = None
            self.boards = {name: BoardProgress(name, total=self.size) for name in e.boards or []}
            return
        if e.event == "done":
            self.summary = dict(e.summary or {})
            return
        if e.board is None:
            return
        row = self.boards.setdefault(e.board, BoardProgress(e.board, total=self.size))
        if e.phase is not None:
            row.phase = e.phase
        if e.bytes is not None:
            row.sent = e.bytes
        if e.total:
            row.total = e.total
        if e.event == "verified":
            row.sent = row.total
        if e.event in OUTCOMES:
            row.outcome = e.event
            row.reason = e.reason
            row.phase = "done"
        elif e.reason and e.phase in ("reconnecting", "rolling_back"):
            row.reason = e.reason
