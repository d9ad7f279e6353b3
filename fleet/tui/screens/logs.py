"""The fleet screen's log pane keys: show or hide it (l), minimum level (L), one board only (b)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleet.tui.messages import LogLines
from fleet.tui.widgets.fleet_table import FleetTable
from fleet.tui.widgets.log_pane import LogPane

if TYPE_CHECKING:
    from fleet.tui.screens.fleet import FleetScreen


class Logs:
    """Log pane keys and new lines from the pump; mixed into FleetScreen."""

    def on_log_lines(self: FleetScreen, message: LogLines) -> None:
        self.query_one(LogPane).add(message.lines)

    def action_logs(self: FleetScreen) -> None:
        self.query_one(LogPane).toggle_class("-hidden")

    def action_log_level(self: FleetScreen) -> None:
        self.feed.logs.next_level()
        self.query_one(LogPane).rebuild()

    def action_log_board(self: FleetScreen) -> None:
        logs = self.feed.logs
        uid = self.query_one(FleetTable).selected_uid
        board = self.source.boards.get(uid) if uid else None
        logs.board = None if logs.board is not None or board is None else board.name
        self.query_one(LogPane).rebuild()
