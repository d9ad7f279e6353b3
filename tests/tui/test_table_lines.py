"""The fleet table draws again only the rows whose cells changed; what the screen shows must
still be every row's current cells."""

from __future__ import annotations

from textual.app import App, ComposeResult

from fleet.telemetry.state import BoardState
from fleet.tui.widgets.fleet_table import FleetTable


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield FleetTable(id="boards")


def screen_lines(app: App) -> list[str]:
    """The screen as composited (what a terminal would be sent), one string per line."""
    return [line.text for line in app.screen._compositor.render_strips()]


async def test_a_changed_row_is_redrawn_and_the_others_are_left_alone():
    boards = {uid: BoardState(f"board-{uid}", uid, f"/dev/ttyACM{uid}", firmware="1.0.0") for uid in ("1", "2", "3")}
    app = TableApp()
    async with app.run_test(size=(160, 10)) as pilot:
        table = app.query_one(FleetTable)
        table.show(boards)
        await pilot.pause()
        assert sum("1.0.0" in line for line in screen_lines(app)) == 3
        boards["2"].firmware = "2.0.0-new"
        drawn = []
        draw = table.render_line
        table.render_line = lambda y: drawn.append(y) or draw(y)  # type: ignore[method-assign]
        table.show(boards)
        await pilot.pause()
        lines = screen_lines(app)
        assert [line for line in lines if "board-2" in line][0].count("2.0.0-new") == 1
        assert sum("1.0.0" in line for line in lines) == 2
        assert drawn == [2]  # the header is line 0; board-2 the second row
        table.show(boards)  # nothing changed: nothing drawn
        await pilot.pause()
        assert drawn == [2]
