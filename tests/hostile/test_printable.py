"""`printable`: what a board (or a remote server) sent, safe for a terminal and still readable."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.printable import printable
from fleet.transport.serial import refusal_text


@pytest.mark.parametrize(("raw", "shown"), [
    ("nano33ble", "nano33ble"),
    ("café ünïcode 😀 [red]x[/]", "café ünïcode 😀 [red]x[/]"),  # text and markup are not control characters
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),  # CSI colour
    ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),  # OSC window title, BEL
    ("\x9b2J", "\\x9b2J"),  # C1 CSI: clear screen
    ("a\r\nforged", "a\\x0d\\x0aforged"),  # a forged log line
    ("\u202eevil\u202c \u2066x\u2069", "\\u202eevil\\u202c \\u2066x\\u2069"),  # bidi override, isolate
    ("\u2028\u200b\ufeff\x7f\x00", "\\u2028\\u200b\\ufeff\\x7f\\x00"),
    ("\U000e0041", "\\U000e0041"),  # a tag character (format, outside the BMP)
])  # fmt: skip
def test_controls_are_shown_as_escapes(raw, shown):
    assert printable(raw) == shown


@given(st.text())
def test_the_result_is_printable_and_a_second_pass_changes_nothing(text):
    once = printable(text)
    assert printable(once) == once
    assert not [c for c in once if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]


def test_a_ser2net_refusal_is_shown_not_interpreted():
    assert refusal_text(b"\x1b]0;pwned\x07Port already in use") == "\\x1b]0;pwned\\x07Port already in use"
