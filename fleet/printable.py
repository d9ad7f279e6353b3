"""Text a board sent, made safe to show: every control character rendered visibly.

A board is untrusted input, and its strings (board kind, firmware version, model names,
LOG lines, error texts) end up on terminals, in the TUI, in logs and in recordings. An
ESC there starts an escape sequence (recolour the screen, move the cursor, set the
window title through OSC, ring the bell); a bidi override reorders what follows it; a
newline forges a log line. `printable` replaces each such character with its Python
escape (`\\x1b`, `\\n`, `\\u202e`), so a person sees what the board sent and the
terminal interprets none of it.

Applied once, where a board's bytes become text (`fleet.protocol` decoding: `str8` fields,
LOG and ERROR texts; see docs/architecture.md, "Board text"). It is idempotent, so text
that passes twice is unchanged by the second pass. Markup (Rich/Textual `[red]`) is not a
control character: the TUI renders board text as plain `Text`, never as markup.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["printable"]

# C0, DEL and C1 controls; line and paragraph separators; format characters (bidi
# embeddings, overrides and isolates, zero-width characters, the BOM, soft hyphen...).
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
_CANDIDATES = re.compile(r"[^\x20-\x7e]")


def printable(text: str) -> str:
    """`text` with every control, format and line-separator character escaped (`\\x1b`, `\\u202e`)."""
    if text.isascii() and text.isprintable():
        return text  # the common case: nothing to look at
    return _CANDIDATES.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if unicodedata.category(char) not in _UNSAFE_CATEGORIES:
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
