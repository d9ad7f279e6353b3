"""The fleet table: one row per board, drawn with Textual's line API from the manager's BoardStates.

Columns have fixed widths (`table_model.COLUMNS`), so a row is one line of text: it is
rebuilt only when one of its cells changes, and drawing the screen copies cached strips.
A DataTable re-rendered every changing cell through Rich on every frame, which with 32
boards x 200 results/s was the UI's largest cost (bench_tui).
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from fleet.config import FleetConfig
from fleet.telemetry.state import BoardState
from fleet.tui import formatting as fmt
from fleet.tui.table_model import COLUMN, COLUMNS, INDEX, SORTABLE, rows

STATE_COLUMN = INDEX["state"]
PAD = 1  # spaces each side of a cell


def _line(cells: tuple[str, ...], state_style: Style | None = None) -> Text:
    line = Text(no_wrap=True, overflow="crop")
    for index, (column, cell) in enumerate(zip(COLUMNS, cells, strict=True)):
        text = cell if len(cell) <= column.width else cell[: column.width - 1] + "…"
        style = state_style if index == STATE_COLUMN else None
        line.append(" " * PAD)
        line.append(text.ljust(column.width), style=style)
        line.append(" " * PAD)
    return line


class FleetTable(ScrollView, can_focus=True):
    """Boards as rows, keyed by uid. `show(boards)` brings the rows up to date; the cursor
    stays on its board when rows move."""

    DEFAULT_CSS = """
    FleetTable { height: 2fr; min-height: 5; }
    FleetTable > .fleet-table--header { text-style: bold; background: $panel; }
    FleetTable > .fleet-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    FleetTable:blur > .fleet-table--cursor { background: $block-cursor-blurred-background; }
    """
    COMPONENT_CLASSES = {"fleet-table--header", "fleet-table--cursor"}
    BINDINGS = [
        Binding("enter", "choose", "Detail"),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "move(-10)", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("home", "move(-1000000)", show=False),
        Binding("end", "move(1000000)", show=False),
    ]

    cursor_row: reactive[int] = reactive(0)

    class BoardChosen(Message):
        """Enter on a row: open this board's detail screen."""

        def __init__(self, uid: str) -> None:
            super().__init__()
            self.uid = uid

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.sort_key = "name"
        self.reverse = False
        self.words: list[str] = []
        self.config: FleetConfig | None = None
        self._order: list[str] = []
        self._cells: dict[str, tuple[str, ...]] = {}
        self._strips: dict[str, Strip] = {}
        self._header = _line(tuple(c.title for c in COLUMNS))

    # --- data ------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def selected_uid(self) -> str | None:
        return self._order[self.cursor_row] if 0 <= self.cursor_row < len(self._order) else None

    def cells(self, uid: str) -> tuple[str, ...]:
        """The texts of a board's row, as shown."""
        return self._cells[uid]

    def cells_at(self, row: int) -> tuple[str, ...]:
        return self._cells[self._order[row]]

    def show(self, boards: Mapping[str, BoardState]) -> None:
        """Bring the rows in line with `boards` (filtered and sorted); redraws only changed rows."""
        wanted = rows(boards, words=self.words, sort=self.sort_key, reverse=self.reverse, config=self.config)
        selected = self.selected_uid
        order = [uid for uid, _ in wanted]
        changed = []  # rows whose cells changed, by position
        for row, (uid, cells) in enumerate(wanted):
            if self._cells.get(uid) != cells:
                self._cells[uid] = cells
                self._strips.pop(uid, None)
                changed.append(row)
        if order != self._order:
            self._order = order
            self.virtual_size = Size(self._width, len(order) + 1)
            if selected in order:
                self.cursor_row = order.index(selected)
            else:
                self.cursor_row = min(self.cursor_row, max(len(order) - 1, 0))
            self.refresh()
            return
        # Only the lines that changed are drawn again (and composited): a board whose figures
        # held still since the last tick costs nothing. Line 0 is the header; rows scroll under it.
        top, width = int(self.scroll_y), self.size.width
        for row in changed:
            if top <= row < top + self.size.height - 1:
                self.refresh(Region(0, row - top + 1, width, 1))

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

    # --- keys ------------------------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        self.cursor_row = max(0, min(row, len(self._order) - 1))

    def action_move(self, delta: int) -> None:
        self.move_cursor(self.cursor_row + delta)

    def action_choose(self) -> None:
        uid = self.selected_uid
        if uid is not None:
            self.post_message(self.BoardChosen(uid))

    def on_click(self, event: events.Click) -> None:
        row = int(self.scroll_y) + event.y - 1
        if event.y >= 1 and row < len(self._order):
            self.move_cursor(row)
            if event.chain == 2:  # double click opens the board, like enter
                self.action_choose()

    def watch_cursor_row(self, old: int, new: int) -> None:
        # Keep the cursor in view (line 0 is the header, always on top).
        visible = max(self.size.height - 1, 1)
        if new < self.scroll_y:
            self.scroll_to(y=new, animate=False)
        elif new >= self.scroll_y + visible:
            self.scroll_to(y=new - visible + 1, animate=False)
        self.refresh()

    # --- drawing ---------------------------------------------------------------------

    @property
    def _width(self) -> int:
        return sum(c.width + 2 * PAD for c in COLUMNS)

    def render_line(self, y: int) -> Strip:
        # Narrower than the columns (an 80-column terminal): left/right scroll sideways.
        left = int(self.scroll_x)
        right = left + self.size.width
        if y == 0:
            style = self.get_component_rich_style("fleet-table--header")
            strip = Strip(list(self._header.render(self.app.console)), self._header.cell_len)
            return strip.apply_style(style).crop_extend(left, right, style)
        index = int(self.scroll_y) + y - 1
        if index >= len(self._order):
            return Strip.blank(self.size.width, self.rich_style)
        uid = self._order[index]
        strip = self._strips.get(uid)
        if strip is None:
            cells = self._cells[uid]
            state = Style.parse(fmt.STATE_STYLE.get(cells[STATE_COLUMN].split()[0], "") or "none")
            text = _line(cells, state)
            strip = self._strips[uid] = Strip(list(text.render(self.app.console)), text.cell_len)
        if index == self.cursor_row:
            cursor = self.get_component_rich_style("fleet-table--cursor")
            return strip.apply_style(cursor).crop_extend(left, right, cursor)
        return strip.crop_extend(left, right, self.rich_style)

    def on_resize(self) -> None:
        self.virtual_size = Size(self._width, len(self._order) + 1)

