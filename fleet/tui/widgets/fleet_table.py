"""The fleet table: one row per board, rebuilt from the manager's BoardStates at a bounded rate."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from fleet.config import FleetConfig
from fleet.telemetry.state import BoardState
from fleet.tui import format as fmt
from fleet.tui.table_model import COLUMN, COLUMNS, SORTABLE, rows

STATE_COLUMN = [c.key for c in COLUMNS].index("state")


class FleetTable(DataTable):
    """Boards as rows (keyed by uid). `show(boards)` redraws; the cursor stays on its board."""

    DEFAULT_CSS = """
    FleetTable { height: 1fr; }
    """
    BINDINGS = [Binding("enter", "select_cursor", "Detail")]

    class BoardChosen(Message):
        """Enter on a row: open this board's detail screen."""

        def __init__(self, uid: str) -> None:
            super().__init__()
            self.uid = uid

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.sort_key = "name"
        self.reverse = False
        self.words: list[str] = []
        self.config: FleetConfig | None = None
        self._order: list[str] = []
        self._cells: dict[str, tuple[str, ...]] = {}

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column.title, width=column.width, key=column.key)

    @property
    def selected_uid(self) -> str | None:
        if not self._order or self.cursor_row < 0 or self.cursor_row >= len(self._order):
            return None
        return self._order[self.cursor_row]

    def show(self, boards: Mapping[str, BoardState]) -> None:
        """Bring the rows in line with `boards` (filtered and sorted); cheap when little changed."""
        wanted = rows(boards, words=self.words, sort=self.sort_key, reverse=self.reverse, config=self.config)
        order = [uid for uid, _ in wanted]
        if order != self._order:
            selected = self.selected_uid
            self.clear()
            self._cells = {}
            for uid, cells in wanted:
                self.add_row(*self._styled(cells), key=uid)
                self._cells[uid] = cells
            self._order = order
            if selected in order:
                self.move_cursor(row=order.index(selected), animate=False)
            return
        for uid, cells in wanted:
            old = self._cells.get(uid)
            if old == cells:
                continue
            styled = self._styled(cells)
            for index, column in enumerate(COLUMNS):
                if old is None or old[index] != cells[index]:
                    self.update_cell(uid, column.key, styled[index])
            self._cells[uid] = cells

    def cycle_sort(self) -> str:
        """Sort by the next sortable column; returns its title."""
        self.sort_key = SORTABLE[(SORTABLE.index(self.sort_key) + 1) % len(SORTABLE)]
        return COLUMN[self.sort_key].title

    def flip_sort(self) -> None:
        self.reverse = not self.reverse

    @property
    def sort_text(self) -> str:
        """`sort: <column> ▲/▼` for the status line."""
        return f"sort: {COLUMN[self.sort_key].title} {'▼' if self.reverse else '▲'}"

    @staticmethod
    def _styled(cells: tuple[str, ...]) -> list[Text]:
        # Text, not str: a str cell is parsed as markup on every render, the costliest part of
        # drawing 32 changing rows (bench_tui).
        styled = [Text(cell, no_wrap=True, overflow="ellipsis") for cell in cells]
        state = cells[STATE_COLUMN]
        styled[STATE_COLUMN].stylize(fmt.STATE_STYLE.get(state.split()[0], ""))
        return styled

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.BoardChosen(event.row_key.value))
