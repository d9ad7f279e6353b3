"""The fleet screen: the table of boards, the deploy panel and the log, over a live session or
a replay. Data arrives through the pump worker as typed messages; the table redraws from the
source's BoardStates at `refresh_hz`, whatever the event rate.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from fleet.errors import FleetError
from fleet.protocol import Info
from fleet.telemetry.recording import open_recording
from fleet.telemetry.replay import ReplaySource
from fleet.tui.feed import Feed, Source
from fleet.tui.messages import (
    ActionFailed,
    BoardsChanged,
    DeployFinished,
    DeploySteps,
    FeedEnded,
    LogLines,
    RecordingChanged,
    SessionFailed,
    SessionReady,
)  # fmt: skip
from fleet.tui.notify import show_error
from fleet.tui.pump import pump
from fleet.tui.screens.board import BoardScreen
from fleet.tui.screens.help import HelpScreen
from fleet.tui.screens.prompt import PathPrompt
from fleet.tui.session import Session
from fleet.tui.table_model import ENERGY, parse_filter
from fleet.tui.widgets.deploy_panel import DeployPanel
from fleet.tui.widgets.fleet_table import FleetTable
from fleet.tui.widgets.log_pane import LogPane

GC_THRESHOLDS = (50_000, 20, 20)  # CPython's default is (700, 10, 10)
# Events waiting for the pump: a few batches' worth. A stalled UI drops (counted) rather than
# piling up objects for the collector to scan.
CONSUMER_QUEUE = 8192
OUTCOME_SEVERITY = {"rolled_back": "warning", "failed": "error", "refused": "warning", "stopped": "warning"}


class FleetScreen(Screen):
    """Boards of a session (live: deploy and record work) or of a replay (read-only)."""

    BINDINGS = [
        Binding("enter", "detail", "Detail", show=True),
        Binding("d", "deploy", "Deploy"),
        Binding("r", "record", "Record"),
        Binding("o", "replay", "Replay"),
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse", "Reverse", show=False),
        Binding("l", "logs", "Logs"),
        Binding("L", "log_level", "Log level", show=False),
        Binding("b", "log_board", "Board log", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, source: Source, *, session: Session | None = None, replay: Path | None = None,
                 refresh_hz: float = 5.0, closable: bool = False) -> None:  # fmt: skip
        super().__init__()
        self.closable = closable
        self.source = source
        self.session = session
        self.replay = replay
        self.refresh_hz = refresh_hz
        self.feed = Feed(source)
        self.ready = session is None
        self.deploying = False
        self.last_recording: Path | None = None
        self.refreshes = 0  # table redraws, for tests and the benchmark
        self.ended = False  # the source has no more events (a replay played out)

    # --- layout and lifecycle --------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        hint = getattr(self.session, "hint", None)
        if hint:
            yield Static(hint, id="hint")
        yield FleetTable(id="boards")
        yield Input(placeholder="filter: tag, group, name, profile, model or state (comma-separated)", id="filter")
        yield DeployPanel(self.feed.deploy, id="deploy")
        yield LogPane(self.feed.logs, id="log")
        yield Footer()

    def on_mount(self) -> None:
        self.title = self.session.title if self.session else f"fleet replay: {self.replay}"
        table = self.query_one(FleetTable)
        table.config = getattr(self.session, "config", None)
        table.focus()
        consumer = self.source.subscribe(maxsize=CONSUMER_QUEUE, name="tui")  # before start: no event is missed
        self.run_worker(pump(self.feed, consumer, self), name="pump", group="pump")
        if self.session is not None:
            self.run_worker(self._start_session(), name="session", group="session")
        elif isinstance(self.source, ReplaySource):
            self.run_worker(self._play(self.source), name="replay", group="replay")
        self.refresh_timer = self.set_interval(1 / self.refresh_hz, self.redraw)
        self.redraw()

    async def _start_session(self) -> None:
        assert self.session is not None
        try:
            await self.session.start()
        except FleetError as exc:
            self.post_message(SessionFailed(exc))
            return
        self.post_message(SessionReady())

    async def _play(self, source: ReplaySource) -> None:
        try:
            await source.run()
        except FleetError as exc:  # a cut recording: everything up to the cut was shown
            self.post_message(FeedEnded(exc))

    def on_session_ready(self, _: SessionReady) -> None:
        self.ready = True
        # Everything alive now (modules, the manager, the boards) lives as long as the app: frozen
        # out of the collector, a full collection no longer scans it. Events die by refcount
        # within milliseconds, so a larger young generation collects rarely and promotes
        # little. Measured under 32 boards x 200 results/s (bench_tui): gen-2 pauses of ~0.5 s
        # before freezing; ~600 collections and ~1.4 s of GC per 20 s before the threshold,
        # one collection after.
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        self.redraw()
        if not self.source.boards:
            self.notify("No boards found yet; fleet keeps scanning. Plug a board in, list it in devices.toml, "
                        "start `fleet sim` in another terminal, or try `fleet demo`.", timeout=15)  # fmt: skip
        request = getattr(self.session, "initial_deploy", None)
        if request is not None:
            self.start_deploy(request)

    def on_session_failed(self, message: SessionFailed) -> None:
        show_error(self.app, message.error, "check devices.toml and the boards' cables, then start fleet again")

    def on_action_failed(self, message: ActionFailed) -> None:
        show_error(self.app, message.error, message.hint)

    def on_feed_ended(self, message: FeedEnded) -> None:
        self.ended = True
        ENERGY.clear()
        self.redraw()
        if message.error is not None:
            show_error(self.app, message.error)
        elif self.replay is not None:
            self.notify(f"Replay finished: {self.feed.events:,} events. esc goes back.", timeout=6)

    # --- live data -------------------------------------------------------------------

    def redraw(self) -> None:
        """Table and status line from the source's board states (bounded rate: a timer calls this)."""
        self.refreshes += 1
        boards = self.source.boards
        self.query_one(FleetTable).show(boards)
        online = sum(b.state == "online" for b in boards.values())
        parts = [f"{len(boards)} boards, {online} online" if self.ready else "connecting…"]
        recording = self.session.manager.recording if self.session is not None else None
        if recording is not None:
            parts.append(f"● REC {recording.path.name} ({recording.events:,} events)")
        table = self.query_one(FleetTable)
        parts.append(table.sort_text)
        if table.words:
            parts.append(f"filter: {','.join(table.words)}")
        self.sub_title = " · ".join(parts)

    def on_boards_changed(self, _: BoardsChanged) -> None:
        self.redraw()  # a board appeared, vanished or came back: show it now, not at the next tick

    def on_log_lines(self, message: LogLines) -> None:
        self.query_one(LogPane).add(message.lines)

    def on_deploy_steps(self, message: DeploySteps) -> None:
        self.query_one(DeployPanel).update_from()
        for notice in message.notices:
            event = notice.event
            severity = OUTCOME_SEVERITY.get(event.event)
            if severity is not None:
                what = event.event.replace("_", " ")
                # Board names and reasons carry board text: never markup (docs/tui.md, "Board text").
                self.notify(f"{event.board}: {what}: {event.reason}", title="deploy", severity=severity,
                            timeout=15, markup=False)  # fmt: skip

    # --- actions ---------------------------------------------------------------------

    def live_info(self, uid: str) -> Info | None:
        client_of = getattr(self.source, "client", None)
        client = client_of(uid) if client_of is not None else None
        return client.info if client is not None else None

    def action_detail(self) -> None:
        uid = self.query_one(FleetTable).selected_uid
        if uid is None:
            self.notify("No board selected: wait for boards to appear, or clear the filter (esc).")
            return
        self.app.push_screen(BoardScreen(self.feed, uid, self.live_info))

    def on_fleet_table_board_chosen(self, message: FleetTable.BoardChosen) -> None:
        self.app.push_screen(BoardScreen(self.feed, message.uid, self.live_info))

    def _live(self, what: str) -> bool:
        if self.session is None:
            self.notify(f"A replay is read-only: {what} works on live boards (esc goes back).", severity="warning")
            return False
        if not self.ready:
            self.notify(f"Boards are still connecting; {what} in a moment.", severity="warning")
            return False
        return True

    def action_deploy(self) -> None:
        from fleet.tui.screens.deploy import DeployScreen

        if not self._live("deploy"):
            return
        if self.deploying:
            self.notify("A deploy is running; wait for it to finish (its progress is under the table).")
            return
        assert self.session is not None
        selected = self.query_one(FleetTable).selected_uid
        board = self.source.boards.get(selected) if selected else None
        screen = DeployScreen(self.session.models(), self.source.boards, self.live_info,
                              self.session.latency_budget_ms, (board.name,) if board else ())  # fmt: skip
        self.app.push_screen(screen, self._deploy_chosen)

    def _deploy_chosen(self, request) -> None:  # noqa: ANN001 - DeployRequest | None
        if request is not None:
            self.start_deploy(request)

    def start_deploy(self, request) -> None:  # noqa: ANN001 - DeployRequest
        """Run a deploy in a worker; progress arrives as DeploySteps, the end as DeployFinished."""
        from fleet.tui.deploy_worker import run_deploy

        assert self.session is not None
        self.deploying = True
        self.run_worker(run_deploy(self.session, request, self), name="deploy", group="deploy", exclusive=True)

    def on_deploy_finished(self, message: DeployFinished) -> None:
        self.deploying = False
        self.query_one(DeployPanel).update_from()
        if not message.results:
            return  # it never started: ActionFailed said why
        outcomes = [r.outcome for r in message.results]
        text = ", ".join(f"{r.board} {r.outcome.replace('_', ' ')}" for r in message.results)
        bad = any(o not in ("confirmed", "skipped") for o in outcomes)
        self.notify(f"Deploy finished: {text}." + (" Reasons are in the deploy panel and the log (l)." if bad else ""),
                    severity="warning" if bad else "information", timeout=10)  # fmt: skip

    def action_record(self) -> None:
        if not self._live("recording"):
            return
        from fleet.tui.record_worker import start_recording, stop_recording

        manager = self.session.manager  # type: ignore[union-attr]  # _live checked there is a session
        if manager.recording is not None:
            self.run_worker(stop_recording(manager, self), group="record", exclusive=True)
            return
        default = time.strftime("fleet-%Y%m%d-%H%M%S.fleetrec")

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.run_worker(start_recording(manager, path, self), group="record", exclusive=True)

        self.app.push_screen(PathPrompt("Record every event to", default,
                                        "enter starts recording, r stops it; esc cancels"), chosen)  # fmt: skip

    def on_recording_changed(self, message: RecordingChanged) -> None:
        if message.stopped:
            self.last_recording = message.path
            dropped = f" ({message.dropped} dropped)" if message.dropped else ""
            self.notify(f"Recorded {message.events:,} events{dropped} to {message.path}. "
                        "o replays it here; `fleet replay` replays it headless.", timeout=10)  # fmt: skip
        else:
            self.notify(f"Recording to {message.path}; r stops.")
        self.redraw()

    def action_replay(self) -> None:
        default = str(self.last_recording or "")

        def chosen(path: Path | None) -> None:
            if path is None:
                return
            try:
                recording = open_recording(path)
            except FleetError as exc:
                show_error(self.app, exc, "record a session with r first, or give the path of a .fleetrec file")
                return
            self.app.push_screen(ReplayScreen(ReplaySource(recording), replay=path, closable=True))

        self.app.push_screen(PathPrompt("Replay the recording", default, "enter opens it; esc cancels"), chosen)

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.add_class("-shown")
        field.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(FleetTable).words = parse_filter(event.value)
        self.redraw()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(FleetTable).focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.value = ""
        field.remove_class("-shown")
        self.query_one(FleetTable).focus()

    def action_sort(self) -> None:
        title = self.query_one(FleetTable).cycle_sort()
        self.redraw()
        self.notify(f"sorted by {title}", timeout=2)

    def action_reverse(self) -> None:
        self.query_one(FleetTable).flip_sort()
        self.redraw()

    def action_logs(self) -> None:
        self.query_one(LogPane).toggle_class("-hidden")

    def action_log_level(self) -> None:
        self.feed.logs.next_level()
        self.query_one(LogPane).rebuild()

    def action_log_board(self) -> None:
        logs = self.feed.logs
        uid = self.query_one(FleetTable).selected_uid
        board = self.source.boards.get(uid) if uid else None
        logs.board = None if logs.board is not None or board is None else board.name
        self.query_one(LogPane).rebuild()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(getattr(self.session, "hint", None)))


class ReplayScreen(FleetScreen):
    """A recording played back (over the live screen, when `closable`: esc returns to it)."""

    BINDINGS = [Binding("escape", "close", "Back")]

    def action_close(self) -> None:
        if self.closable:
            self.app.pop_screen()
        else:
            self.action_clear_filter()
