"""What the fleet screen's table shows: its filter (/, esc) and its sort (s, S)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Input

from fleet.tui.table_model import parse_filter
from fleet.tui.widgets.fleet_table import FleetTable

if TYPE_CHECKING:
    from fleet.tui.screens.fleet import FleetScreen

FILTER_ID = "filter"


class TableView:
    """Filter and sort keys of the fleet table; mixed into FleetScreen, which composes the `#filter` input."""

    def action_filter(self: FleetScreen) -> None:
        field = self.query_one(f"#{FILTER_ID}", Input)
        field.add_class("-shown")
        field.focus()

    def on_input_changed(self: FleetScreen, event: Input.Changed) -> None:
        if event.input.id == FILTER_ID:
            self.query_one(FleetTable).words = parse_filter(event.value)
            self.redraw()

    def on_input_submitted(self: FleetScreen, event: Input.Submitted) -> None:
        if event.input.id == FILTER_ID:
            self.query_one(FleetTable).focus()

    def action_clear_filter(self: FleetScreen) -> None:
        field = self.query_one(f"#{FILTER_ID}", Input)
        field.value = ""
        field.remove_class("-shown")
        self.query_one(FleetTable).focus()

    def action_sort(self: FleetScreen) -> None:
        title = self.query_one(FleetTable).cycle_sort()
        self.redraw()
        self.notify(f"sorted by {title}", timeout=2)

    def action_reverse(self: FleetScreen) -> None:
        self.query_one(FleetTable).flip_sort()
        self.redraw()
