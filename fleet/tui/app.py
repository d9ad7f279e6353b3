"""The fleet TUI application: thin. It opens the fleet screen on a backend (live boards or the
demo's virtual ones) or on a replay, and adds app-wide keys and command palette entries.
Everything else lives in screens/ and widgets/; the data they render comes from the manager.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from fleet.telemetry.replay import ReplaySource
from fleet.tui.backend import Backend
from fleet.tui.messages import ReplayChosen
from fleet.tui.screens.fleet import FleetScreen, ReplayScreen

# (title, help, screen action) for the command palette: every action of the fleet screen by name.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Deploy a model", "pick a model, see pre-flight per board, choose targets and strategy (d)", "deploy"),
    ("Board detail", "charts and info for the selected board (enter)", "detail"),
    ("Start or stop recording", "record every event to a file (r)", "record"),
    ("Open a replay", "play a recording back (o)", "replay"),
    ("Filter boards", "by tag, group, name, profile, model or state (/)", "filter"),
    ("Clear the filter", "show every board (esc)", "clear_filter"),
    ("Sort by the next column", "name, profile, state, inf/s, p99, power, energy, model (s)", "sort"),
    ("Reverse the sort order", "(S)", "reverse"),
    ("Show or hide the log", "device LOG frames and fleet events (l)", "logs"),
    ("Log: next minimum level", "DEBUG, INFO, WARN, ERROR (L)", "log_level"),
    ("Log: only the selected board", "toggle (b)", "log_board"),
)


class FleetApp(App[None]):
    """`FleetApp(backend)` for live boards; `FleetApp(replay=ReplaySource(...), replay_path=...)` for a recording."""

    CSS_PATH = "fleet.tcss"
    TITLE = "fleet"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, backend: Backend | None = None, *, replay: ReplaySource | None = None,
                 replay_path: Path | None = None, refresh_hz: float = 5.0) -> None:  # fmt: skip
        super().__init__()
        if (backend is None) == (replay is None):
            raise ValueError("FleetApp needs a backend or a replay")
        self.backend = backend
        self.replay = replay
        self.replay_path = replay_path
        self.refresh_hz = refresh_hz
        self._quit_warned = False

    def on_mount(self) -> None:
        if self.backend is not None:
            self.push_screen(FleetScreen(self.backend.manager, backend=self.backend, refresh_hz=self.refresh_hz))
        else:
            assert self.replay is not None
            self.push_screen(ReplayScreen(self.replay, replay=self.replay_path, refresh_hz=self.refresh_hz))

    async def action_quit(self) -> None:
        screen = self.screen
        if isinstance(screen, FleetScreen) and screen.deploying and not self._quit_warned:
            # Quitting now cancels the deploy: a board under test reverts on its own, but say so first.
            self._quit_warned = True
            self.notify("A deploy is running; quitting stops it (a board under test rolls back). q again to quit.",
                        severity="warning", timeout=8)  # fmt: skip
            return
        await super().action_quit()

    def on_replay_chosen(self, message: ReplayChosen) -> None:
        self.push_screen(ReplayScreen(message.source, replay=message.path, closable=True))

    def action_help(self) -> None:
        screen = self.screen
        if isinstance(screen, FleetScreen):
            screen.action_help()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, FleetScreen):
            for title, help_text, action in COMMANDS:
                yield SystemCommand(title, help_text, getattr(screen, f"action_{action}"))
            yield SystemCommand("Help", "keys, columns and the demo story (?)", screen.action_help)
