"""Recording workers: start and stop the manager's recording, report the result as a message."""

from __future__ import annotations

from pathlib import Path

from textual.message_pump import MessagePump

from fleet.errors import FleetError
from fleet.tui.messages import ActionFailed, RecordingChanged


async def start_recording(manager, path: Path, target: MessagePump) -> None:  # noqa: ANN001 - FleetManager
    try:
        writer = await manager.start_recording(path)
    except FleetError as exc:
        target.post_message(ActionFailed(exc, "choose another file name (r) in a directory you can write to"))
        return
    target.post_message(RecordingChanged(writer.path))


async def stop_recording(manager, target: MessagePump) -> None:  # noqa: ANN001 - FleetManager
    try:
        writer = await manager.stop_recording()
    except FleetError as exc:
        target.post_message(ActionFailed(exc, "the recording may be incomplete; check the disk"))
        return
    if writer is not None:
        target.post_message(RecordingChanged(writer.path, stopped=True, events=writer.events, dropped=writer.dropped))
