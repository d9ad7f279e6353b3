"""The log pane: device LOG frames and fleet events, filtered by board and level."""

from __future__ import annotations

import time
from collections.abc import Iterable

from rich.text import Text
from textual.widgets import RichLog

from fleet.tui.loglines import LogLine, LogStore

LEVEL_STYLE = ("dim", "", "yellow", "bold red")


def clock(t: float) -> str:
    """HH:MM:SS.mmm of a host time, local."""
    return time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"


class LogPane(RichLog):
    """Shows the lines a `LogStore` accepts; `rebuild()` after its filter changes."""

    DEFAULT_CSS = """
    LogPane { height: 1fr; min-height: 4; max-height: 12; border-top: solid $primary; }
    """

    def __init__(self, store: LogStore, *, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=1000, wrap=True, markup=False)
        self.store = store

    def on_mount(self) -> None:
        self.rebuild()

    def add(self, lines: Iterable[LogLine]) -> None:
        for line in lines:
            if self.store.accepts(line):
                self.write(self._text(line))

    def rebuild(self) -> None:
        self.clear()
        self.border_title = self.title_text()
        self.add(self.store.visible())

    def title_text(self) -> str:
        board = self.store.board or "all boards"
        level = ("DEBUG", "INFO", "WARN", "ERROR")[self.store.min_level]
        return f"log: {board}, {level} and above"

    @staticmethod
    def _text(line: LogLine) -> Text:
        text = Text(f"{clock(line.time)} ", style="dim")
        text.append(f"{line.board:<16} ", style="bold")
        text.append(f"{line.level_name:<5} ", style=LEVEL_STYLE[min(max(line.level, 0), 3)])
        text.append(line.text)
        return text
