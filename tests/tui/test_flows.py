"""Every TUI flow driven with the keyboard through Pilot, over virtual boards on memory pipes."""

from __future__ import annotations

import time

import pytest
from textual.widgets import DataTable, Input, OptionList, SelectionList, Sparkline

from tests.support.sim import require_sim

require_sim()  # runs virtual boards

from fleet.sim.farm import FarmConfig, SimFarm  # noqa: E402
from fleet.sim.virtual_board import LinkConfig  # noqa: E402
from fleet.telemetry.events import EnergyEvent, TraceEvent  # noqa: E402
from fleet.tui.screens.board import BoardScreen  # noqa: E402
from fleet.tui.screens.deploy import DeployScreen  # noqa: E402
from fleet.tui.screens.fleet import ReplayScreen  # noqa: E402
from fleet.tui.screens.help import HelpScreen  # noqa: E402
from fleet.tui.screens.prompt import PathPrompt  # noqa: E402
from fleet.connect import memory_connector  # noqa: E402
from fleet.tui.table_model import INDEX  # noqa: E402
from fleet.tui.widgets.fleet_table import FleetTable  # noqa: E402
from fleet.tui.widgets.log_pane import LogPane  # noqa: E402
from fleet.tui.widgets.power_trace import PowerTraceView  # noqa: E402
from tests.support.tui import by_profile, demo_app, fleet_screen, keep_notifications, raised, settled, text_of, wait_for  # noqa: E402

pytestmark = pytest.mark.timeout(180)


async def test_startup_shows_every_board_after_the_opening_deploy():
    async with demo_app() as (app, session, pilot):
        screen = await settled(app, pilot)
        table = screen.query_one(FleetTable)
        await wait_for(pilot, lambda: table.row_count == 4, what="4 rows")
        assert screen.feed.deploy.summary == {"confirmed": 4}
        assert {b.model_text for b in session.manager.boards.values()} == {"sine 1.0.0"}
        assert screen.sub_title.startswith("4 boards, 4 online")
        assert "sine" in text_of(screen.query_one("#hint"))


async def test_the_table_follows_the_board_states_at_a_bounded_rate():
    async with demo_app() as (app, _session, pilot):
        screen = await settled(app, pilot)
        table = screen.query_one(FleetTable)
        # A timer redraws, not each event: with it paused, 100 events (4 boards x 20 results/s,
        # power, link...) redraw nothing; resumed, it redraws again.
        screen.refresh_timer.pause()
        events, refreshes = screen.feed.events, screen.refreshes
        await wait_for(pilot, lambda: screen.feed.events >= events + 100, what="100 events")
        assert screen.refreshes == refreshes
        screen.refresh_timer.resume()
        await wait_for(pilot, lambda: screen.refreshes > refreshes, what="the timer's redraw")
        pico = by_profile(screen, "pico")
        screen.redraw()  # no await until the asserts: the states cannot move meanwhile
        row = table.cells(pico.uid)
        assert row[INDEX["rate"]] == f"{pico.stats.inference_rate:,.1f}"  # inf/s, straight from BoardState
        assert float(row[INDEX["p99"]]) == pytest.approx(pico.stats.latency_p99_us / 1000, abs=0.01)
        await pilot.press("s")  # sort by profile
        await pilot.pause()
        profiles = [table.cells_at(i)[INDEX["profile"]] for i in range(table.row_count)]
        assert profiles == sorted(profiles)
        await pilot.press("S")
        await pilot.pause()
        assert [table.cells_at(i)[INDEX["profile"]] for i in range(table.row_count)] == sorted(profiles, reverse=True)


async def test_filter_by_tag_text_and_clear():
    async with demo_app() as (app, _session, pilot):
        screen = await settled(app, pilot)
        table = screen.query_one(FleetTable)
        await pilot.press("slash", *"pico")
        await pilot.pause()
        assert table.row_count == 1 and table.cells_at(0)[INDEX["profile"]] == "pico"
        await pilot.press("enter", "escape")
        await pilot.pause()
        assert table.row_count == 4 and not screen.query_one("#filter", Input).value


async def test_detail_screen_charts_outputs_latency_and_power():
    async with demo_app() as (app, _session, pilot):
        await settled(app, pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, BoardScreen), what="the detail screen")
        detail = app.screen
        await wait_for(pilot, lambda: all(len(s.data or []) >= 2 for s in detail.query(Sparkline)),
                       what="charts with data")  # fmt: skip
        assert "#0" in detail._charts  # sine: one output
        info = text_of(detail.query_one("#info"))
        assert "arena" in info and "sine 1.0.0" in info
        assert detail.query_one("#recent", DataTable).row_count > 0
        await pilot.press("escape")
        assert not isinstance(app.screen, BoardScreen)


async def test_detail_screen_traces_current_and_energy_from_the_managers_events():
    """The board's modelled POWER draws its trace until a meter's trace and energy events,
    published through the manager as a meter session does, take over; the screen names
    the meter and writes each window's µJ."""
    async with demo_app() as (app, session, pilot):
        screen = await settled(app, pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, BoardScreen), what="the detail screen")
        detail = app.screen
        view = detail.query_one(PowerTraceView)
        await wait_for(pilot, lambda: "current from modelled" in text_of(view), what="the board's own trace")
        assert "latency windows, no per-inference energy" in text_of(view)
        board = session.manager.boards[detail.uid]
        meter = "meter:ppk2 C3A1F0E2"
        for k in range(3):  # 3 x 20 buckets of 2 ms, one 444 µs inference in each
            highs = (2000.0,) * 10 + (6000.0,) + (2000.0,) * 9
            session.manager.publish(TraceEvent(
                board=board.name, uid=board.uid, host_time=time.time(), device_time_us=k * 40_000, bucket_us=2000.0,
                min_ua=(2000.0,) * 20, max_ua=highs, windows=((k * 40_000 + 20_100.0, k * 40_000 + 20_544.0, 8.791),),
                source=meter))  # fmt: skip
        session.manager.publish(EnergyEvent(
            board=board.name, uid=board.uid, host_time=time.time(), device_time_us=1, inference_count=1,
            energy_uj=8.791, duration_us=444.0, power_mw=19.8, method="marker", source=meter))  # fmt: skip
        await wait_for(pilot, lambda: f"current from {meter}" in text_of(view), what="the meter's trace")
        shown = text_of(view)
        assert "marker windows" in shown and "8.79" in shown
        assert "µJ/inference: last 8.791, mean 8.791 over the last 3" in shown
        assert screen.feed.histories.get(detail.uid).trace.columns(60)[-10].windows  # the third inference


async def test_deploy_with_a_canary_and_a_health_check_rollback():
    async with demo_app() as (app, _session, pilot):
        screen = await settled(app, pilot)
        table = screen.query_one(FleetTable)
        esp, pico = by_profile(screen, "esp32s3"), by_profile(screen, "pico")
        table.move_cursor([table.cells_at(i)[INDEX["name"]] for i in range(4)].index(esp.name))
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DeployScreen), what="the deploy dialog")
        dialog = app.screen
        models = dialog.query_one("#models", OptionList)
        models.highlighted = [o.id.endswith("gesture.tflite") for o in models._options].index(True)
        await pilot.press("enter")  # load + pre-flight
        await wait_for(pilot, lambda: dialog.model is not None, what="pre-flight verdicts")
        assert dialog.query_one("#preflight", DataTable).row_count == 4
        targets = dialog.query_one("#targets", SelectionList)
        assert targets.selected == [esp.name]  # the board under the cursor
        targets.highlighted = [targets.get_option_at_index(i).value for i in range(4)].index(pico.name)
        await pilot.press("space", "ctrl+d")
        await wait_for(pilot, lambda: not isinstance(app.screen, DeployScreen), what="the dialog to close")
        await wait_for(pilot, lambda: screen.feed.deploy.summary is not None and not screen.deploying,
                       timeout=60, what="the deploy to finish")  # fmt: skip
        rows = screen.feed.deploy.boards
        assert list(rows) == sorted([esp.name, pico.name])  # canary: esp32s3 first (table order)
        assert rows[esp.name].outcome == "confirmed"
        assert rows[pico.name].outcome == "rolled_back"
        assert "health check failed: median latency 0.7 ms exceeds the 0.5 ms budget" in rows[pico.name].reason
        assert "rolled back to sine 1.0.0" in rows[pico.name].reason
        panel = text_of(screen.query_one("#deploy"))
        assert "rolled back" in panel
        assert any("rolled back" in line.text for line in screen.feed.logs.lines)
        # After the outcome the UI re-reads INFO: the detail screen shows the slots as they are now.
        def running(uid: str) -> tuple[str, str]:
            active = screen.source.boards[uid].active
            return active.name, active.state

        await wait_for(pilot, lambda: running(esp.uid) == ("gesture", "active")
                       and running(pico.uid) == ("sine", "active"), what="INFO after the deploy")  # fmt: skip
        await wait_for(pilot, lambda: table.cells(pico.uid)[INDEX["model"]] == "sine 1.0.0" and
                       table.cells(esp.uid)[INDEX["model"]] == "gesture 1.0.0", what="models in the table")  # fmt: skip


async def test_hotplug_shows_reconnecting_then_online_again():
    async with demo_app(deploy_first=False) as (app, session, pilot):
        screen = fleet_screen(app)
        table = screen.query_one(FleetTable)
        # The rows, not only the manager's boards: a row is drawn a moment after its board appears.
        await wait_for(pilot, lambda: len(screen.source.boards) == 4 and table.row_count == 4, what="4 rows")
        board = session.farm.boards[2]
        await board.unplug()
        await wait_for(pilot, lambda: table.cells(board.uid)[INDEX["state"]] == "reconnecting", what="reconnecting")
        await board.plug()
        await wait_for(pilot, lambda: table.cells(board.uid)[INDEX["state"]] == "online ↻1", what="back online")
        assert any("reconnecting" in line.text for line in screen.feed.logs.lines)
        # A fifth board plugged in while the UI runs gets its own row.
        async with SimFarm(FarmConfig(boards=1, profiles=("pico",), transport="memory", seed=99,
                                      link=LinkConfig(baud=None))) as extra:  # fmt: skip
            await session.manager.add_board(memory_connector(extra.memory_ports[0]))
            # Its row can be drawn from its first state, before the next redraw says online.
            uid = extra.boards[0].uid
            await wait_for(pilot, lambda: table.row_count == 5 and table.cells(uid)[INDEX["state"]] == "online",
                           what="a fifth row, online")  # fmt: skip


async def test_record_then_replay_the_recording(tmp_path):
    path = tmp_path / "session.fleetrec"
    async with demo_app(deploy_first=False) as (app, session, pilot):
        screen = fleet_screen(app)
        await wait_for(pilot, lambda: screen.ready and len(screen.source.boards) == 4, what="4 boards")
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, PathPrompt), what="the path prompt")
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: session.manager.recording is not None, what="recording")
        await wait_for(pilot, lambda: "REC" in screen.sub_title, what="REC in the title")
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.last_recording == path, what="recording stopped")
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, PathPrompt), what="the replay prompt")
        assert app.screen.query_one(Input).value == str(path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen), what="the replay screen")
        replay = app.screen
        await wait_for(pilot, lambda: replay.query_one(FleetTable).row_count == 4, what="replayed rows")
        await pilot.press("d")  # read-only: a notification, no dialog
        assert isinstance(app.screen, ReplayScreen)
        await pilot.press("escape")
        assert app.screen is screen


def _resource_lines(detail: BoardScreen) -> list[str]:
    lines = text_of(detail.query_one("#info")).splitlines()
    return [" ".join(line.split()) for line in lines if line.split()[:1] in (["arena"], ["slot"], ["slots"], ["clock"])]


async def test_the_detail_panel_shows_a_replayed_board_as_the_live_one(tmp_path):
    # Arena, slot size, slot states and clock come from the board's INFO through its BoardState,
    # which recordings keep: a replay shows them too (it showed none when they came from the client).
    path = tmp_path / "detail.fleetrec"
    async with demo_app(boards=1, profiles=("pico",), deploy_first=False) as (app, session, pilot):
        screen = fleet_screen(app)
        await wait_for(pilot, lambda: screen.ready and any(b.resources for b in screen.source.boards.values()),
                       what="a board with its INFO")  # fmt: skip
        await session.manager.start_recording(path)
        await session.manager.stop_recording()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, BoardScreen), what="the live detail screen")
        live = _resource_lines(app.screen)
        assert [line.split()[0] for line in live] == ["arena", "slot", "slots", "clock"]
        assert "-" not in live and "clock 133 MHz" in live
        await pilot.press("escape")
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, PathPrompt), what="the replay prompt")
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen), what="the replay screen")
        replay = app.screen
        await wait_for(pilot, lambda: replay.query_one(FleetTable).row_count == 1, what="the replayed row")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, BoardScreen), what="the replayed detail screen")
        assert _resource_lines(app.screen) == live


async def test_logs_filter_by_level_and_board_and_help_and_palette():
    async with demo_app() as (app, _session, pilot):
        screen = await settled(app, pilot)
        logs = screen.feed.logs
        await pilot.press("L", "L")
        assert logs.min_level == 2 and "WARN" in screen.query_one(LogPane).border_title
        await pilot.press("b")
        first = screen.query_one(FleetTable).selected_uid
        assert logs.board == screen.source.boards[first].name
        await pilot.press("l")
        assert screen.query_one(LogPane).has_class("-hidden")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        titles = [c.title for c in app.get_system_commands(screen)]
        assert {"Deploy a model", "Start or stop recording", "Open a replay", "Filter boards"} <= set(titles)


async def test_an_unusable_model_file_is_an_error_notification_with_a_hint(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model")
    async with demo_app(deploy_first=False) as (app, _session, pilot):
        screen = fleet_screen(app)
        await wait_for(pilot, lambda: screen.ready, what="the session")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DeployScreen), what="the deploy dialog")
        await pilot.press("tab")
        app.screen.query_one("#path", Input).value = str(bad)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(n.severity == "error" for n in raised(app)), what="an error")
        note = next(n for n in raised(app) if n.severity == "error")
        assert "bad.tflite" in note.message and "→" in note.message


async def test_a_live_session_without_boards_says_what_to_do(tmp_path, monkeypatch):
    from fleet.config import FleetConfig
    from fleet.tui.app import FleetApp
    from fleet.tui.backend import LiveBackend

    monkeypatch.setenv("FLEET_SIM_REGISTRY", str(tmp_path / "empty-registry"))
    session = LiveBackend(FleetConfig())
    app = keep_notifications(FleetApp(session))
    try:
        async with app.run_test() as pilot:
            screen = fleet_screen(app)
            await wait_for(pilot, lambda: screen.ready, what="the session")
            await pilot.pause()
            assert any("No boards found yet" in n.message for n in raised(app))
            assert screen.sub_title.startswith("0 boards, 0 online")
    finally:
        await session.stop()
