"""The benchmark chart: latency and energy per inference per board, as a PNG.

Two panels side by side, one bar per board (two, grouped, when there is a baseline to
compare with): median latency with a min-p99 whisker, and energy per inference with its
spread (min-max of the per-interval values). matplotlib is imported here only, lazily,
with the Agg backend, so the rest of fleet (and a headless CI) never needs a display.
"""

from __future__ import annotations

from pathlib import Path

from fleet.bench.report import BenchReport, BoardBench
from fleet.errors import FleetError


def _series(boards: list[BoardBench], names: list[str]) -> list[BoardBench | None]:
    by_name = {b.board: b for b in boards}
    return [by_name.get(name) for name in names]


def write_chart(report: BenchReport, path: str | Path) -> Path:
    """Draw the chart of `report` (and of its comparison's baseline, if any) into `path`."""
    try:
        import matplotlib
    except ImportError:
        raise FleetError("writing the chart needs matplotlib", hint="pip install 'fleet[bench]'") from None

    matplotlib.use("Agg")  # no display; must precede pyplot
    import matplotlib.pyplot as plt

    names = [b.board for b in report.boards]
    runs = [(f"{report.model.name} {report.model.version}", report.boards)]
    if report.comparison is not None:
        against = report.comparison.against
        runs.append((f"{against.name} {against.version} (baseline)", report.comparison.baseline))
    width = 0.8 / len(runs)
    fig, (ax_lat, ax_energy) = plt.subplots(1, 2, figsize=(max(8.0, 2.2 * len(names) + 3), 4.8))
    try:
        for index, (label, boards) in enumerate(runs):
            rows = _series(boards, names)
            xs = [i + (index - (len(runs) - 1) / 2) * width for i in range(len(names))]
            _latency_bars(ax_lat, xs, rows, width, label)
            _energy_bars(ax_energy, xs, rows, width, label)
        for ax, title, unit in ((ax_lat, "Latency per inference (median, min-p99)", "ms"),
                                (ax_energy, "Energy per inference (mean, min-max)", "µJ")):  # fmt: skip
            ax.set_title(title, fontsize=10)
            ax.set_ylabel(unit)
            ax.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
            ax.grid(axis="y", alpha=0.3)
            if len(runs) > 1:
                ax.legend(fontsize=8)
        failed = [b.board for b in report.boards if b.status == "failed"]
        note = f" — failed: {', '.join(failed)}" if failed else ""
        fig.suptitle(f"fleet bench: {report.model.name} {report.model.version} ({report.model.sha256[:8]}){note}",
                     fontsize=11)  # fmt: skip
        fig.tight_layout()
        path = Path(path)
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return path


def _latency_bars(ax, xs: list[float], rows: list[BoardBench | None], width: float, label: str) -> None:  # noqa: ANN001
    heights = [(r.latency_median_us or 0) / 1000 if r else 0 for r in rows]
    lows = [h - r.latency_min_us / 1000 if r and r.latency_min_us is not None else 0 for h, r in zip(heights, rows)]
    highs = [r.latency_p99_us / 1000 - h if r and r.latency_p99_us is not None else 0 for h, r in zip(heights, rows)]
    err = [[max(0.0, v) for v in lows], [max(0.0, v) for v in highs]]
    bars = ax.bar(xs, heights, width, yerr=err, capsize=3, label=label)
    ax.bar_label(bars, labels=[f"{h:.2f}" if h else "-" for h in heights], fontsize=7, padding=2)


def _energy_bars(ax, xs: list[float], rows: list[BoardBench | None], width: float, label: str) -> None:  # noqa: ANN001
    heights = [r.energy_per_inference_uj or 0 if r else 0 for r in rows]
    lows = [h - r.energy_min_uj if r and r.energy_min_uj is not None else 0 for h, r in zip(heights, rows)]
    highs = [r.energy_max_uj - h if r and r.energy_max_uj is not None else 0 for h, r in zip(heights, rows)]
    err = [[max(0.0, v) for v in lows], [max(0.0, v) for v in highs]]
    bars = ax.bar(xs, heights, width, yerr=err, capsize=3, label=label)
    ax.bar_label(bars, labels=[f"{h:.1f}" if h else "-" for h in heights], fontsize=7, padding=2)
