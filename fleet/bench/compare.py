"""Side-by-side comparison: this run's figures over a baseline's, per board.

The baseline is a second model benchmarked on the same boards, or a report saved earlier
(`--out` writes `bench.json`; `--json` prints the same document). Boards are matched by
uid, else by name (a board renamed in devices.toml is still the same chip). A ratio is
this / baseline, so 0.5 for energy per inference means this run uses half the energy;
None where either side lacks the figure. Power and energy measured by different kinds of
source (a model, the board's sensor, an external meter) are not compared: their ratios are
None and the row's `note` says why.
"""

from __future__ import annotations

from typing import Literal

from fleet.bench.report import BenchReport, BoardBench, BoardRatio, Comparison
from fleet.telemetry.power_source import source_kind

# (ratio field, BoardBench field)
RATIO_FIELDS = (
    ("latency_median", "latency_median_us"), ("latency_p99", "latency_p99_us"),
    ("inferences_per_s", "inferences_per_s"), ("power", "power_mw"),
    ("energy_per_inference", "energy_per_inference_uj"),
)  # fmt: skip


def ratio(value: float | None, base: float | None) -> float | None:
    """value / base, or None when either is missing or the base is 0."""
    if value is None or base is None or base == 0:
        return None
    return round(value / base, 4)


_ENERGY_RATIOS = ("power", "energy_per_inference")


def board_ratio(current: BoardBench, base: BoardBench) -> BoardRatio:
    figures = {name: ratio(getattr(current, attr), getattr(base, attr)) for name, attr in RATIO_FIELDS}
    note = None
    kinds = [source_kind(b.energy_source) if b.energy_source else None for b in (current, base)]
    if None not in kinds and kinds[0] != kinds[1]:
        note = f"energy not compared: {current.energy_source} here, {base.energy_source} in the baseline"
        figures.update({name: None for name in _ENERGY_RATIOS})
    return BoardRatio(board=current.board, uid=current.uid, note=note, **figures)


def compare(report: BenchReport, baseline: BenchReport, source: Literal["model", "file"]) -> Comparison:
    """Ratios of every board of `report` found in `baseline` (boards in only one are left out)."""
    by_uid = {b.uid: b for b in baseline.boards}
    by_name = {b.board: b for b in baseline.boards}
    ratios = []
    for board in report.boards:
        base = by_uid.get(board.uid) or by_name.get(board.board)
        if base is not None:
            ratios.append(board_ratio(board, base))
    return Comparison(against=baseline.model, source=source, baseline=baseline.boards, ratios=ratios)
