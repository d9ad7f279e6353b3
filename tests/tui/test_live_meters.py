"""`fleet tui` reads the meters feeding its boards, as `fleet monitor` does; one it cannot
read is a warning in the log pane (stderr is the screen), from the meter itself."""

from __future__ import annotations

from fleet.config import parse_config
from fleet.export.topics import message_for
from fleet.telemetry.events import LogEvent, parse_event
from fleet.tui.backend import LiveBackend
from tests.support.events import collect


async def test_a_meter_whose_board_is_not_managed_is_a_logged_warning_of_that_meter(tmp_path):
    config = parse_config('[[meters]]\nkind = "ppk2"\nboard = "nobody"\nport = "/dev/null"\nserial = "C3A1"\n',
                          path=tmp_path / "d.toml")  # fmt: skip
    session = LiveBackend(config)
    consumer = session.manager.subscribe(name="test")
    await session.start()
    try:
        events = await collect(consumer, lambda ev: any(isinstance(e, LogEvent) for e in ev), timeout=10)
        assert session.meters is not None and not session.meters.sessions
    finally:
        await session.stop()
    [note] = [e for e in events if isinstance(e, LogEvent)]
    # Named by the meter's label, of no board (was board "meters", uid "": one topic for every meter).
    assert (note.board, note.uid, note.level, note.text) == (
        "meter:ppk2 C3A1", "", 2, "on /dev/null not read: its board nobody is not managed")
    assert not session.manager.boards  # no board state made up for it
    out = message_for(note, "lab/fleet")
    assert out.topic == "lab/fleet/meters/ppk2-C3A1/log"  # its own topic, beside no board's
    assert parse_event(out.payload) == note
