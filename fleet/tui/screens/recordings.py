"""Recordings from the fleet screen: start and stop one (r), open one to replay (o)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from fleet.errors import FleetError
from fleet.telemetry.recording import open_recording
from fleet.telemetry.replay import ReplaySource
from fleet.tui.messages import RecordingChanged, ReplayChosen
from fleet.tui.notify import show_error
from fleet.tui.screens.prompt import PathPrompt

if TYPE_CHECKING:
    from fleet.tui.screens.fleet import FleetScreen


class Recordings:
    """The fleet screen's record and replay keys; mixed into FleetScreen. The app opens the replay."""

    last_recording: Path | None = None

    def action_record(self: FleetScreen) -> None:
        if not self.live("recording"):
            return
        from fleet.tui.record_worker import start_recording, stop_recording

        manager = self.backend.manager  # type: ignore[union-attr]  # live() checked there is a backend
        if manager.recording is not None:
            self.run_worker(stop_recording(manager, self), group="record", exclusive=True)
            return
        default = time.strftime("fleet-%Y%m%d-%H%M%S.fleetrec")

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.run_worker(start_recording(manager, path, self), group="record", exclusive=True)

        self.app.push_screen(PathPrompt("Record every event to", default,
                                        "enter starts recording, r stops it; esc cancels"), chosen)  # fmt: skip

    def on_recording_changed(self: FleetScreen, message: RecordingChanged) -> None:
        if message.stopped:
            self.last_recording = message.path
            dropped = f" ({message.dropped} dropped)" if message.dropped else ""
            self.notify(f"Recorded {message.events:,} events{dropped} to {message.path}. "
                        "o replays it here; `fleet replay` replays it headless.", timeout=10)  # fmt: skip
        else:
            self.notify(f"Recording to {message.path}; r stops.")
        self.redraw()

    def action_replay(self: FleetScreen) -> None:
        default = str(self.last_recording or "")

        def chosen(path: Path | None) -> None:
            if path is None:
                return
            try:
                recording = open_recording(path)
            except FleetError as exc:
                show_error(self.app, exc, "record a session with r first, or give the path of a .fleetrec file")
                return
            self.post_message(ReplayChosen(ReplaySource(recording), path))

        self.app.push_screen(PathPrompt("Replay the recording", default, "enter opens it; esc cancels"), chosen)
