"""How board logic says no: a `Refusal` becomes an ERROR response on the wire."""

from __future__ import annotations

from fleet.error_codes import ErrorCode


class Refusal(Exception):
    """A request the board refuses with `code` (PROTOCOL.md section 7), `detail` and `text`."""

    def __init__(self, code: ErrorCode, text: str, detail: int = 0) -> None:
        super().__init__(f"{code.name}: {text}")
        self.code = code
        self.detail = detail
        self.text = text
