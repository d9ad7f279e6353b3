"""The fleet table's content, without Textual: columns, cells, sorting and filtering.

Cells are computed from `BoardState` at refresh time, so the table shows exactly what the
manager holds (one source of truth), never a copy that could drift.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from fleet.config import FleetConfig
from fleet.telemetry.state import BoardState
from fleet.tui import formatting as fmt


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    width: int  # fixed: the table does not jump as figures change, and fits 160 columns
    cell: Callable[[BoardState], str]
    sort: Callable[[BoardState], object]  # missing figures sort last


class SlowFigure:
    """A figure too costly to compute for every board at every refresh, recomputed at most
    once per `every_s` per board. Energy per inference walks the whole 5-s window of the
    board's results (1,000 entries at 200 results/s): 19 ms a refresh for 32 boards, the
    bulk of a redraw (bench_tui). It is a 5-s average, so once a second loses nothing."""

    def __init__(self, compute: Callable[[BoardState], float | None], every_s: float = 1.0) -> None:
        self.compute = compute
        self.every_s = every_s
        self._cache: dict[int, tuple[BoardState, float, float | None]] = {}

    def __call__(self, board: BoardState) -> float | None:
        now = time.monotonic()
        entry = self._cache.get(id(board))
        if entry is not None and entry[0] is board and now - entry[1] < self.every_s:
            return entry[2]
        value = self.compute(board)
        self._cache[id(board)] = (board, now, value)
        return value

    def clear(self) -> None:
        """Forget every cached value (a replay ended: show its exact last figures)."""
        self._cache.clear()


ENERGY = SlowFigure(lambda b: b.stats.energy_per_inference_uj)


def _num(value: float | None) -> float:
    return float("inf") if value is None else -value  # big first; "-" last


# Live figures first: in an 80-column terminal they are what shows without scrolling sideways.
COLUMNS: tuple[Column, ...] = (
    Column("name", "board", 20, lambda b: b.name, lambda b: b.name),
    Column("state", "state", 12, fmt.state_text, lambda b: (b.state != "online", b.state)),
    Column("model", "model", 16, lambda b: b.model_text, lambda b: b.model_text),
    Column("rate", "inf/s", 6, lambda b: fmt.number(b.stats.inference_rate), lambda b: _num(b.stats.inference_rate)),
    Column("p99", "p99 ms", 7, lambda b: fmt.latency_ms(b.stats.latency_p99_us),
           lambda b: _num(b.stats.latency_p99_us)),
    Column("power", "mW", 6, lambda b: fmt.figure(b.stats.power_mw), lambda b: _num(b.stats.power_mw)),
    Column("energy", "µJ/inf", 8, lambda b: fmt.figure(ENERGY(b)), lambda b: _num(ENERGY(b))),
    Column("link", "link", 10, lambda b: fmt.link_health(b.link), lambda b: fmt.link_health(b.link) != "ok"),
    Column("profile", "profile", 14, lambda b: b.profile or fmt.DASH, lambda b: b.profile or "~"),
    Column("port", "port", 11, lambda b: b.port, lambda b: b.port),
    Column("firmware", "firmware", 15, lambda b: b.firmware or fmt.DASH, lambda b: b.firmware or "~"),
    Column("uid", "uid", 8, lambda b: b.uid[-8:], lambda b: b.uid),
)
SORTABLE = ("name", "profile", "state", "rate", "p99", "power", "energy", "model")
COLUMN = {c.key: c for c in COLUMNS}
INDEX = {c.key: i for i, c in enumerate(COLUMNS)}  # a column's position in a row's cells


def matches(board: BoardState, words: Iterable[str], config: FleetConfig | None) -> bool:
    """Whether a board passes the filter: any word is one of its tags, a group holding it, or
    part of its name, profile, model, state or port (case-insensitive)."""
    words = [w for w in words if w]
    if not words:
        return True
    groups = config.groups if config is not None else {}
    haystack = " ".join((board.name, board.profile or "", board.model_text, board.state, board.port)).lower()
    for word in words:
        if word in board.tags or board.name in groups.get(word, ()) or word.lower() in haystack:
            return True
    return False


def parse_filter(text: str) -> list[str]:
    return [w.strip() for w in text.replace(" ", ",").split(",") if w.strip()]


def rows(boards: Mapping[str, BoardState], *, words: Iterable[str] = (), sort: str = "name", reverse: bool = False,
         config: FleetConfig | None = None) -> list[tuple[str, tuple[str, ...]]]:  # fmt: skip
    """(uid, cells) of the boards that pass the filter, in sort order (ties by name)."""
    words = list(words)
    chosen = [b for b in boards.values() if matches(b, words, config)]
    key = COLUMN[sort].sort
    chosen.sort(key=lambda b: b.name)
    chosen.sort(key=key, reverse=reverse)
    return [(b.uid, tuple(c.cell(b) for c in COLUMNS)) for b in chosen]
