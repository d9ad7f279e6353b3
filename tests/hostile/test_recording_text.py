"""A recording is a file anyone can hand over: board text read back from one is made printable
too, so `fleet replay` and the TUI's replay cannot be made to write escapes to a terminal."""

from __future__ import annotations

import json

from fleet.telemetry.events import parse_event


def test_board_text_in_a_recorded_event_is_escaped_when_read_back():
    crafted = {
        "kind": "state", "board": "\x1b[2Jevil", "uid": "01", "host_time": 1.0, "state": "offline", "port": "p",
        "profile": "\x9b31m", "firmware": "\x1b]0;pwned\x07", "reason": "a\nforged line",
        "active": {"slot": 0, "state": "active", "name": "\u202eevil", "version": "\x07", "sha256": "00"},
    }  # fmt: skip
    event = parse_event(json.dumps(crafted))
    assert (event.board, event.profile, event.firmware) == ("\\x1b[2Jevil", "\\x9b31m", "\\x1b]0;pwned\\x07")
    assert event.reason == "a\\x0aforged line"
    assert (event.active.name, event.active.version) == ("\\u202eevil", "\\x07")
    log = parse_event(json.dumps({"kind": "log", "board": "b", "uid": "01", "host_time": 1.0, "device_time_us": 5,
                                  "level": 1, "text": "\x1b[31mred"}))  # fmt: skip
    assert log.text == "\\x1b[31mred"
