"""A labelled time chart: min/max buckets from a `MinMaxDecimator`, drawn as a sparkline."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Sparkline

from fleet.telemetry.decimate import MinMaxDecimator
from fleet.tui.history import BoardHistory


class TimeChart(Horizontal):
    """`title  [sparkline of bucket maxima]  last / min..max unit`; redraw with `draw()`."""

    DEFAULT_CSS = """
    TimeChart { height: 2; }
    TimeChart > .chart-title { width: 14; }
    TimeChart > Sparkline { width: 1fr; height: 2; }
    TimeChart > .chart-figures { width: 30; padding-left: 1; }
    """

    def __init__(self, title: str, unit: str, *, digits: int = 2, id: str | None = None) -> None:
        super().__init__(id=id)
        self.chart_title = title
        self.unit = unit
        self.digits = digits

    def compose(self) -> ComposeResult:
        yield Label(self.chart_title, classes="chart-title")
        # Each bar is a bucket's maximum: a spike in any sample stays visible.
        yield Sparkline([], summary_function=max)
        yield Label("-", classes="chart-figures")

    def draw(self, history: BoardHistory, series: MinMaxDecimator | None, width: int) -> None:
        buckets = history.window(series, width) if series is not None else []
        self.query_one(Sparkline).data = [b.max for b in buckets]
        figures = self.query_one(".chart-figures", Label)
        if not buckets:
            figures.update("-")
            return
        low, high, last = min(b.min for b in buckets), max(b.max for b in buckets), buckets[-1].last
        d = self.digits
        figures.update(f"{last:.{d}f} {self.unit}  ({low:.{d}f}..{high:.{d}f})")
