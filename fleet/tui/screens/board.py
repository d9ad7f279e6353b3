"""A board's detail screen: info, live charts of its outputs, latency and power, its current trace
with inference windows and their energy, recent results."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label

from fleet.tui.feed import Feed
from fleet.tui.history import BoardHistory
from fleet.tui.widgets.board_info import BoardInfo
from fleet.tui.widgets.charts import TimeChart
from fleet.tui.widgets.power_trace import PowerTraceView

REFRESH_S = 0.25
RECENT_ROWS = 12


class BoardScreen(Screen):
    """Everything about one board, redrawn four times a second from the feed and its BoardState."""

    BINDINGS = [Binding("escape,backspace", "app.pop_screen", "Back")]

    def __init__(self, feed: Feed, uid: str) -> None:
        super().__init__()
        self.feed = feed
        self.uid = uid
        self._charts: dict[str, TimeChart] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield BoardInfo(id="info")
            with Vertical(id="charts"):
                yield Label("outputs over time (bar = max per 0.5 s)", classes="section")
                yield VerticalScroll(id="outputs")
                yield Label("latency and power", classes="section")
                yield TimeChart("latency", "ms", digits=2, id="latency-chart")
                yield TimeChart("power", "mW", digits=1, id="power-chart")
                yield PowerTraceView(id="trace")
                yield Label("recent results", classes="section")
                yield DataTable(id="recent", cursor_type="none", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#recent", DataTable)
        for title in ("device s", "label", "score", "latency ms", "outputs"):
            table.add_column(title)
        self.redraw()
        self.set_interval(REFRESH_S, self.redraw)

    def redraw(self) -> None:
        board = self.feed.source.boards.get(self.uid)
        if board is None:
            return
        self.title = f"{board.name} ({board.profile or 'unknown'})"
        self.sub_title = board.model_text
        self.query_one(BoardInfo).show(board)
        history = self.feed.histories.get(self.uid)
        outputs = self.query_one("#outputs", VerticalScroll)
        for name in [n for n in self._charts if n not in history.outputs]:
            self._charts.pop(name).remove()  # the model changed: its outputs are gone
        for name in history.outputs:
            if name not in self._charts:
                chart = self._charts[name] = TimeChart(name, "", digits=2)
                outputs.mount(chart)
        for name, chart in self._charts.items():
            if chart.is_mounted:
                chart.draw(history, history.outputs.get(name), self._width(chart))
        latency = self.query_one("#latency-chart", TimeChart)
        latency.draw(history, history.latency_ms, self._width(latency))
        power = self.query_one("#power-chart", TimeChart)
        power.draw(history, history.power_mw, self._width(power))
        self.query_one(PowerTraceView).draw(history.trace)
        self._recent(history)

    @staticmethod
    def _width(chart: TimeChart) -> int:
        return max(chart.size.width - 14 - 30, 8)

    def _recent(self, history: BoardHistory) -> None:
        table = self.query_one("#recent", DataTable)
        table.clear()
        for event in list(history.recent)[-RECENT_ROWS:][::-1]:
            outputs = " ".join(f"{v:.2f}" for v in event.values[:8])
            score = "-" if event.score is None else f"{event.score:.2f}"
            table.add_row(f"{event.device_time_us / 1e6:.3f}", event.label or "-", score,
                          f"{event.latency_us / 1000:.2f}", outputs)  # fmt: skip
