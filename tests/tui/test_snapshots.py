"""Snapshots of every screen, drawn from a fixed recording replayed as fast as it goes.

Update the baselines with `pytest tests/tui/test_snapshots.py --snapshot-update` and look
at the report before committing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from fleet.telemetry.recording import open_recording
from fleet.telemetry.replay import ReplaySource
from fleet.tui.app import FleetApp
from fleet.tui.model_choices import model_choices
from fleet.tui.screens.board import BoardScreen
from fleet.tui.screens.deploy import DeployScreen
from fleet.tui.screens.fleet import FleetScreen
from fleet.tui.screens.prompt import PathPrompt
from tests.support.tui import SIZE, wait_for
from tests.tui.fixed_recording import BOARDS, write_fixed_recording

SHOWN_AS = Path("bench.fleetrec")  # the title shows this, not the temporary path


@pytest.fixture
def app(tmp_path: Path) -> FleetApp:
    path = tmp_path / "fixed.fleetrec"
    write_fixed_recording(path)
    return FleetApp(replay=ReplaySource(open_recording(path), speed=None), replay_path=SHOWN_AS)


async def _played(pilot) -> FleetScreen:  # noqa: ANN001
    screen = pilot.app.screen
    assert isinstance(screen, FleetScreen)
    # The recording ends with the deploy's summary; then the replay and the pump workers finish.
    await wait_for(pilot, lambda: screen.feed.deploy.summary is not None, what="the whole recording")
    await wait_for(pilot, lambda: screen.ended, what="the end of the replay")
    await pilot.pause()
    pilot.app.clear_notifications()
    screen.redraw()
    await pilot.pause()
    return screen


def test_fleet_screen(app, snap_compare):
    assert snap_compare(app, terminal_size=SIZE, run_before=_played)


def test_fleet_screen_sorted_by_latency_and_filtered(app, snap_compare):
    async def run_before(pilot) -> None:  # noqa: ANN001
        await _played(pilot)
        await pilot.press("s", "s", "s", "s")  # name -> profile -> state -> inf/s -> p99
        await pilot.press("slash", *"esp,pico", "enter")
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_board_detail_screen(app, snap_compare):
    async def run_before(pilot) -> None:  # noqa: ANN001
        screen = await _played(pilot)
        await pilot.app.push_screen(BoardScreen(screen.feed, BOARDS[2][1]))
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_board_detail_screen_with_a_meter(tmp_path, snap_compare):
    """The Nano fed by a PPK2: its current trace at 2 ms, inference windows shaded, each
    window's µJ under it, the meter named."""
    path = tmp_path / "metered.fleetrec"
    write_fixed_recording(path, meter=True)
    metered = FleetApp(replay=ReplaySource(open_recording(path), speed=None), replay_path=SHOWN_AS)

    async def run_before(pilot) -> None:  # noqa: ANN001
        screen = await _played(pilot)
        await pilot.app.push_screen(BoardScreen(screen.feed, BOARDS[1][1]))
        await pilot.pause(0.3)

    assert snap_compare(metered, terminal_size=SIZE, run_before=run_before)


def test_deploy_dialog(app, snap_compare):
    async def run_before(pilot) -> None:  # noqa: ANN001
        screen = await _played(pilot)
        dialog = DeployScreen(model_choices(), screen.source.boards, lambda model, uid: None, 0.5, (BOARDS[0][0],))
        await pilot.app.push_screen(dialog)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_help_screen(app, snap_compare):
    async def run_before(pilot) -> None:  # noqa: ANN001
        await _played(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_record_prompt(app, snap_compare):
    async def run_before(pilot) -> None:  # noqa: ANN001
        await _played(pilot)
        await pilot.app.push_screen(PathPrompt("Record every event to", "fleet-20260101-120000.fleetrec",
                                               "enter starts recording, r stops it; esc cancels"))  # fmt: skip
        # The cursor shown, not blinking: it blinks on a 0.5 s wall-clock timer, so a loaded
        # machine took the snapshot with it off now and then.
        pilot.app.screen.query_one(Input).cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
