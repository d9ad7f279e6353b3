"""Typed messages workers post to the screens: the UI thread reacts, it never waits on I/O."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from fleet.deploy.board_deploy import BoardResult
from fleet.errors import FleetError
from fleet.telemetry.events import DeployNotice
from fleet.telemetry.replay import ReplaySource
from fleet.tui.loglines import LogLine


class BackendReady(Message):
    """The backend's boards are connected (or have failed once): data flows from now on."""


class BackendFailed(Message):
    """The backend could not start; the error says why and what to do."""

    def __init__(self, error: FleetError) -> None:
        super().__init__()
        self.error = error


class ActionFailed(Message):
    """A deploy, recording or replay could not run; `hint` says what to do if the error does not."""

    def __init__(self, error: FleetError, hint: str | None = None) -> None:
        super().__init__()
        self.error = error
        self.hint = hint


class BoardsChanged(Message):
    """Boards appeared, or changed connection state (uids)."""

    def __init__(self, uids: set[str]) -> None:
        super().__init__()
        self.uids = uids


class LogLines(Message):
    """New log lines (device LOG frames and fleet events)."""

    def __init__(self, lines: list[LogLine]) -> None:
        super().__init__()
        self.lines = lines


class DeploySteps(Message):
    """Deploy steps published by the manager, in order."""

    def __init__(self, notices: list[DeployNotice]) -> None:
        super().__init__()
        self.notices = notices


class DeployFinished(Message):
    """A deploy the TUI started has ended: one result per target."""

    def __init__(self, results: list[BoardResult]) -> None:
        super().__init__()
        self.results = results


class RecordingChanged(Message):
    """Recording started (`path`, `events` 0) or stopped (`stopped` True, events written)."""

    def __init__(self, path: Path, *, stopped: bool = False, events: int = 0, dropped: int = 0) -> None:
        super().__init__()
        self.path = path
        self.stopped = stopped
        self.events = events
        self.dropped = dropped


class FeedEnded(Message):
    """The source has no more events (a replay played to its end, or the manager stopped)."""

    def __init__(self, error: FleetError | None = None) -> None:
        super().__init__()
        self.error = error


class ReplayChosen(Message):
    """The user opened a recording to replay over the live screen (the app pushes its screen)."""

    def __init__(self, source: ReplaySource, path: Path) -> None:
        super().__init__()
        self.source = source
        self.path = path
