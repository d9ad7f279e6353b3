"""The TUI over a hostile board whose every string carries terminal escapes and Textual
markup (`fleet.sim.hostile`, kind `control`): the text shows literally, escapes visible,
markup unparsed (`[@click=app.quit]` quits nothing), in the table, the detail screen, the
log pane, the deploy dialog and notifications."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.widgets import DataTable

from fleet.tui.screens.board import BoardScreen
from fleet.tui.screens.deploy import DeployScreen
from fleet.tui.widgets.log_pane import LogPane
from tests.support.tui import demo_app, fleet_screen, raised, text_of, wait_for

pytestmark = pytest.mark.timeout(180)

MARKUP = "[red]x[/]"  # in the board's LOG and ERROR texts
ESCAPED = "\\x1b]0;pwned\\x07"


async def test_board_text_renders_literally_everywhere():
    async with demo_app(boards=1, profiles=("nano33ble",), hostile=("control",)) as (app, session, pilot):
        screen = fleet_screen(app)
        # The opening deploy meets the board's COMMIT refusal, whose text is all escapes and markup.
        await wait_for(pilot, lambda: screen.feed.deploy.summary is not None and not screen.deploying,
                       what="the opening deploy")  # fmt: skip
        assert screen.feed.deploy.summary == {"failed": 1}
        notes = [n for n in raised(app) if MARKUP in n.message]
        assert notes and not any(n.markup for n in notes)
        assert app.is_running

        pane = screen.query_one(LogPane)
        shown = "\n".join("".join(segment.text for segment in strip) for strip in pane.lines)
        assert MARKUP in shown and ESCAPED in shown and "[@click=app.quit]" in shown
        assert "\x1b" not in shown

        board = next(iter(session.manager.boards.values()))
        assert board.name.startswith("\\x1b[31mkind\\x1b[0m\\u202e[b]x")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, BoardScreen), what="the detail screen")
        info = text_of(app.screen.query_one("#info"))
        assert "\\x1b]0;pwned\\x07[red]fw[/]" in info  # firmware version, markup and all
        assert "\\x1b[31mkind\\x1b[0m\\u202e[b]x" in info
        await pilot.press("escape")

        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DeployScreen), what="the deploy dialog")
        dialog = app.screen
        await pilot.press("enter")  # the first model: load + pre-flight
        await wait_for(pilot, lambda: dialog.model is not None, what="pre-flight verdicts")
        cell = dialog.query_one("#preflight", DataTable).get_row_at(0)[0]
        assert isinstance(cell, Text) and "[b]x" in cell.plain
        await pilot.press("escape")
        assert app.is_running


async def test_a_board_lying_at_hello_is_an_error_naming_it():
    async with demo_app(boards=1, profiles=("nano33ble",), hostile=("slot-state",), deploy_first=False) as (
        app, _session, pilot,
    ):  # fmt: skip
        await wait_for(pilot, lambda: any(n.severity == "error" for n in raised(app)), what="an error")
        note = next(n for n in raised(app) if n.severity == "error")
        assert "refused: Info: slot 0 state is 9; slot states are 0..4" in note.message
        assert note.title == "BoardRefused" and "→" in note.message  # with the hint
        assert app.is_running
