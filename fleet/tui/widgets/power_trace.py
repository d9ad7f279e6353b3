"""The board detail screen's current trace: bars of each bucket's peak current, columns an
inference window overlaps shaded, each measured window's µJ written under it, and the
source named (`fleet.tui.power_trace` holds the data)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from fleet.tui.power_trace import Column, PowerTrace, Window

BLOCKS = " ▁▂▃▄▅▆▇█"
SHADE = "on #1f3d2b"  # inference windows
ROWS = 4
METHODS = {"marker": "marker windows", "timestamp": "timestamp windows",
           "latency": "latency windows, no per-inference energy"}  # fmt: skip


def render_trace(trace: PowerTrace, width: int, rows: int = ROWS) -> Text:
    """The trace as text: a heading, `rows` rows of bars, a row of µJ labels, a summary."""
    columns = trace.columns(width)
    text = Text()
    text.append(_heading(trace, columns), style="bold")
    text.append("\n")
    peaks = [c.max_ua for c in columns if c.max_ua is not None]
    top = max(peaks) if peaks else 0.0
    for row in range(rows - 1, -1, -1):
        for column in columns:
            text.append(_cell(column, top, row, rows), style=SHADE if column.windows else "")
        text.append("\n")
    text.append(_labels(columns))
    text.append("\n")
    text.append(_summary(trace, columns, top))
    return text


def _heading(trace: PowerTrace, columns: list[Column]) -> str:
    if trace.source is None:
        return "current: no power data yet"
    span = (columns[-1].end - columns[0].start) * 1000 if columns else 0.0
    method = METHODS.get(trace.method or "", "no inferences")
    return f"current from {trace.source} · last {span:.0f} ms · shaded: inference ({method})"


def _cell(column: Column, top: float, row: int, rows: int) -> str:
    if column.max_ua is None:
        return "·" if row == 0 else " "
    eighths = round(column.max_ua / top * rows * 8) if top > 0 else 0
    return BLOCKS[max(0, min(8, eighths - row * 8))]


def _labels(columns: list[Column]) -> str:
    """Each measured window's µJ, written from its first column when there is room."""
    line = [" "] * len(columns)
    seen: set[Window] = set()
    free = 0
    for i, column in enumerate(columns):
        for window in column.windows:
            if window in seen:
                continue
            seen.add(window)
            if window.energy_uj is None or i < free:
                continue
            label = f"{window.energy_uj:.3g}"
            if i + len(label) > len(line):
                continue
            line[i : i + len(label)] = label
            free = i + len(label) + 1
    return "".join(line)


def _summary(trace: PowerTrace, columns: list[Column], top: float) -> str:
    measured = [w.energy_uj for w in trace.windows if w.energy_uj is not None]
    peak = f"peak {top / 1000:.2f} mA" if columns else "no samples"
    if not measured:
        return f"{peak} · µJ/inference: -" + ("" if trace.metered else " (needs a meter)")
    mean = sum(measured) / len(measured)
    return f"{peak} · µJ/inference: last {measured[-1]:.3f}, mean {mean:.3f} over the last {len(measured)}"


class PowerTraceView(Static):
    """Draws a `PowerTrace` with `draw()`; the screen calls it on its refresh."""

    DEFAULT_CSS = """
    PowerTraceView { height: 7; }
    """

    def draw(self, trace: PowerTrace) -> None:
        self.update(render_trace(trace, max(self.size.width, 8)))
