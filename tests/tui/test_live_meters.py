"""`fleet tui` reads the meters feeding its boards, as `fleet monitor` does; one it cannot
read is a warning in the log pane (stderr is the screen)."""

from __future__ import annotations

import asyncio

from fleet.config import parse_config
from fleet.telemetry.events import LogEvent
from fleet.tui.backend import LiveBackend

async def test_a_meter_whose_board_is_not_managed_is_a_logged_warning(tmp_path):
    config = parse_config('[[meters]]\nkind = "ppk2"\nboard = "nobody"\nport = "/dev/null"\n', path=tmp_path / "d.toml")
    session = LiveBackend(config)
    consumer = session.manager.subscribe(name="test")
    await session.start()
    try:
        await asyncio.sleep(0.1)
        logs = []
        while (batch := consumer.get_nowait()) is not None:
            logs += [e for e in (batch if isinstance(batch, list) else [batch]) if isinstance(e, LogEvent)]
        assert [(e.board, e.level, e.text) for e in logs] == [
            ("meters", 2, "meter:ppk2 null on /dev/null not read: its board nobody is not managed")]
        assert session.meters is not None and not session.meters.sessions
    finally:
        await session.stop()
