"""The board detail screen's info panel: identity, connection, model slots, arena, link."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from fleet.telemetry.events import SlotView
from fleet.telemetry.state import BoardState
from fleet.tui import formatting as fmt


def _slot(view: SlotView | None) -> str:
    if view is None:
        return fmt.DASH
    return f"{view.name or view.sha256[:8]} {view.version}  (slot {view.slot}, {view.state}, {view.sha256[:8]})"


class BoardInfo(Static):
    """Key/value lines for one board; `show(board)` redraws. Live or replayed, the same BoardState
    carries all of it, so a replay shows what the live session showed."""

    DEFAULT_CSS = """
    BoardInfo { width: 58; height: auto; padding: 0 1; border: round $primary; }
    """

    def show(self, board: BoardState) -> None:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        state = Text(fmt.state_text(board), style=fmt.STATE_STYLE.get(board.state, ""))
        rows: list[tuple[str, str | Text]] = [
            ("name", board.name), ("uid", board.uid), ("profile", board.profile or fmt.DASH),
            ("port", board.port), ("firmware", board.firmware or fmt.DASH), ("state", state),
        ]  # fmt: skip
        if board.reason and board.state != "online":
            rows.append(("why", board.reason))
        rows += [("active model", _slot(board.active)), ("previous", _slot(board.previous))]
        res = board.resources
        rows += [
            ("arena", fmt.bytes_text(res.arena_bytes if res else None)),
            ("slot size", fmt.bytes_text(res.slot_bytes if res else None)),
            ("slots", ", ".join(f"{i}: {state}" for i, state in enumerate(res.slots)) if res else fmt.DASH),
            ("clock", f"{res.cpu_hz / 1e6:g} MHz" if res else fmt.DASH),
        ]  # fmt: skip
        stats = board.stats
        rows += [
            ("results", f"{stats.results:,}"), ("inf/s", fmt.number(stats.inference_rate)),
            ("latency", f"p50 {fmt.latency_ms(stats.latency_p50_us)} / p99 {fmt.latency_ms(stats.latency_p99_us)} ms"),
            ("power", f"{fmt.number(stats.power_mw)} mW, {fmt.number(stats.energy_per_inference_uj)} µJ/inference"),
            ("link", fmt.link_health(board.link)), ("resets", f"{board.resets}, reconnects {board.reconnects}"),
        ]  # fmt: skip
        if board.deploy is not None:
            d = board.deploy
            rows.append(("last deploy", f"{d.event.replace('_', ' ')}" + (f": {d.reason}" if d.reason else "")))
        for key, value in rows:
            grid.add_row(key, Text(value) if isinstance(value, str) else value)  # board text is never markup
        self.update(grid)
