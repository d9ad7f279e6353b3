"""Per-board deploy progress: phase, a progress bar, and the outcome with its reason."""

from __future__ import annotations

from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from fleet.tui.deploy_tracker import BoardProgress, DeployTracker

OUTCOME_STYLE = {"confirmed": "green", "skipped": "cyan", "refused": "yellow", "rolled_back": "bold yellow",
                 "failed": "bold red", "stopped": "yellow", "busy": "yellow", "unreachable": "yellow", "unknown": "bold red"}  # fmt: skip


class DeployPanel(Static):
    """Draws a `DeployTracker`; hidden until the first deploy. Call `update_from()` to redraw."""

    DEFAULT_CSS = """
    DeployPanel { height: auto; max-height: 30%; border-top: solid $accent; padding: 0 1; display: none; }
    DeployPanel.-shown { display: block; }
    """

    def __init__(self, tracker: DeployTracker, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tracker = tracker

    def update_from(self) -> None:
        tracker = self.tracker
        if tracker.model is None:
            return
        self.add_class("-shown")
        state = "running" if tracker.active else "finished"
        summary = ""
        if tracker.summary:
            summary = ": " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(tracker.summary.items()))
        self.border_title = f"deploy {tracker.model} ({tracker.strategy}) {state}{summary}"
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(width=18, no_wrap=True)
        table.add_column(width=24)
        table.add_column(width=14, no_wrap=True)
        table.add_column(ratio=1)
        for row in tracker.boards.values():
            table.add_row(Text(row.board, style="bold"), _bar(row), _phase(row), _reason(row))
        self.update(table)


def _bar(row: BoardProgress) -> ProgressBar:
    return ProgressBar(total=max(row.total, 1), completed=row.sent if row.total else 0, width=24)


def _phase(row: BoardProgress) -> Text:
    if row.outcome is not None:
        return Text(row.outcome.replace("_", " "), style=OUTCOME_STYLE.get(row.outcome, ""))
    return Text(row.phase.replace("_", " "))


def _reason(row: BoardProgress) -> Text:
    return Text(row.reason or "", style="yellow" if row.outcome in ("rolled_back", "failed") else "dim")
