"""The board detail screen's info panel: identity, connection, model slots, arena, link."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from fleet.protocol import Info, SlotState
from fleet.telemetry.events import SlotView
from fleet.telemetry.ingest import slot_views
from fleet.telemetry.state import BoardState
from fleet.tui import format as fmt


def _slot(view: SlotView | None) -> str:
    if view is None:
        return fmt.DASH
    return f"{view.name or view.sha256[:8]} {view.version}  (slot {view.slot}, {view.state}, {view.sha256[:8]})"


class BoardInfo(Static):
    """Key/value lines for one board; `show(board, info)` redraws (info: the live INFO, if online)."""

    DEFAULT_CSS = """
    BoardInfo { width: 58; height: auto; padding: 0 1; border: round $primary; }
    """

    def show(self, board: BoardState, info: Info | None) -> None:
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
        # The live INFO, when there is one, is the freshest word on the slots.
        active, previous = slot_views(info) if info is not None else (board.active, board.previous)
        rows += [("active model", _slot(active)), ("previous", _slot(previous))]
        if info is not None:
            rows += [("arena", fmt.bytes_text(info.arena_bytes)), ("slot size", fmt.bytes_text(info.slot_bytes)),
                     ("slots", ", ".join(f"{i}: {SlotState(s.state).name.lower()}" for i, s in enumerate(info.slots))),
                     ("clock", f"{info.cpu_hz / 1e6:g} MHz")]  # fmt: skip
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
