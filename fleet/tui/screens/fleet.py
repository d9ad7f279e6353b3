"""The fleet screen: the table of boards, the deploy panel and the log, over a live backend or
a replay. Data arrives through the pump worker as typed messages; the table redraws from the
source's BoardStates at `refresh_hz`, whatever the event rate.
"""

from __future__ import annotations

import gc
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from fleet.errors import FleetError
from fleet.telemetry.replay import ReplaySource
from fleet.tui.backend import Backend
from fleet.tui.feed import Feed, Source
from fleet.tui.messages import ActionFailed, BackendFailed, BackendReady, BoardsChanged, FeedEnded
from fleet.tui.notify import show_error
from fleet.tui.pump import pump
from fleet.tui.screens.board import BoardScreen
from fleet.tui.screens.deploying import Deploying
from fleet.tui.screens.help import HelpScreen
from fleet.tui.screens.logs import Logs
from fleet.tui.screens.recordings import Recordings
from fleet.tui.screens.table_view import FILTER_ID, TableView
from fleet.tui.table_model import ENERGY
from fleet.tui.widgets.deploy_panel import DeployPanel
from fleet.tui.widgets.fleet_table import FleetTable
from fleet.tui.widgets.log_pane import LogPane

GC_THRESHOLDS = (50_000, 20, 20)  # CPython's default is (700, 10, 10)
# Events waiting for the pump: a few batches' worth. A stalled UI drops (counted) rather than
# piling up objects for the collector to scan.
CONSUMER_QUEUE = 8192


class FleetScreen(Deploying, Recordings, TableView, Logs, Screen):
    """Boards of a backend (live: deploy and record work) or of a replay (read-only).

    This class lays the screen out, starts the backend or the replay and the pump, and
    redraws; each group of keys lives in its own piece: deploying, recordings, table_view, logs.
    """

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

    def __init__(self, source: Source, *, backend: Backend | None = None, replay: Path | None = None,
                 refresh_hz: float = 5.0, closable: bool = False) -> None:  # fmt: skip
        super().__init__()
        self.closable = closable
        self.source = source
        self.backend = backend
        self.replay = replay
        self.refresh_hz = refresh_hz
        self.feed = Feed(source)
        self.ready = backend is None
        self.refreshes = 0  # table redraws, for tests and the benchmark
        self.ended = False  # the source has no more events (a replay played out)

    # --- layout and lifecycle --------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        hint = getattr(self.backend, "hint", None)
        if hint:
            yield Static(hint, id="hint")
        yield FleetTable(id="boards")
        yield Input(placeholder="filter: tag, group, name, profile, model or state (comma-separated)", id=FILTER_ID)
        yield DeployPanel(self.feed.deploy, id="deploy")
        yield LogPane(self.feed.logs, id="log")
        yield Footer()

    def on_mount(self) -> None:
        self.title = self.backend.title if self.backend else f"fleet replay: {self.replay}"
        table = self.query_one(FleetTable)
        table.config = getattr(self.backend, "config", None)
        table.focus()
        consumer = self.source.subscribe(maxsize=CONSUMER_QUEUE, name="tui")  # before start: no event is missed
        self.run_worker(pump(self.feed, consumer, self), name="pump", group="pump")
        if self.backend is not None:
            self.run_worker(self._start_backend(), name="backend", group="backend")
        elif isinstance(self.source, ReplaySource):
            self.run_worker(self._play(self.source), name="replay", group="replay")
        self.refresh_timer = self.set_interval(1 / self.refresh_hz, self.redraw)
        self.redraw()

    async def _start_backend(self) -> None:
        assert self.backend is not None
        try:
            await self.backend.start()
        except FleetError as exc:
            self.post_message(BackendFailed(exc))
            return
        self.post_message(BackendReady())

    async def _play(self, source: ReplaySource) -> None:
        try:
            await source.run()
        except FleetError as exc:  # a cut recording: everything up to the cut was shown
            self.post_message(FeedEnded(exc))

    def on_backend_ready(self, _: BackendReady) -> None:
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
        request = getattr(self.backend, "initial_deploy", None)
        if request is not None:
            self.start_deploy(request)

    def on_backend_failed(self, message: BackendFailed) -> None:
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
        recording = self.backend.manager.recording if self.backend is not None else None
        if recording is not None:
            parts.append(f"● REC {recording.path.name} ({recording.events:,} events)")
        table = self.query_one(FleetTable)
        parts.append(table.sort_text)
        if table.words:
            parts.append(f"filter: {','.join(table.words)}")
        self.sub_title = " · ".join(parts)

    def on_boards_changed(self, _: BoardsChanged) -> None:
        self.redraw()  # a board appeared, vanished or came back: show it now, not at the next tick

    # --- actions ---------------------------------------------------------------------

    def action_detail(self) -> None:
        uid = self.query_one(FleetTable).selected_uid
        if uid is None:
            self.notify("No board selected: wait for boards to appear, or clear the filter (esc).")
            return
        self.app.push_screen(BoardScreen(self.feed, uid))

    def on_fleet_table_board_chosen(self, message: FleetTable.BoardChosen) -> None:
        self.app.push_screen(BoardScreen(self.feed, message.uid))

    def live(self, what: str) -> bool:
        """Whether `what` (deploy, recording) can run now; if not, says why."""
        if self.backend is None:
            self.notify(f"A replay is read-only: {what} works on live boards (esc goes back).", severity="warning")
            return False
        if not self.ready:
            self.notify(f"Boards are still connecting; {what} in a moment.", severity="warning")
            return False
        return True

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(getattr(self.backend, "hint", None)))


class ReplayScreen(FleetScreen):
    """A recording played back (over the live screen, when `closable`: esc returns to it)."""

    BINDINGS = [Binding("escape", "close", "Back")]

    def action_close(self) -> None:
        if self.closable:
            self.app.pop_screen()
        else:
            self.action_clear_filter()
