"""The benchmark report: what `fleet bench --json` prints, `--out` saves, and `--compare` reads back.

Pydantic models at the edge (JSON in and out, CSV columns); the figures themselves are
computed by `fleet.bench.figures`. A board's row is flat on purpose: one row, one CSV line.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from fleet.errors import ConfigError

FORMAT = "fleet-bench"
VERSION = 1
BoardStatus = Literal["ok", "partial", "failed"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelRef(_Model):
    """The model benchmarked."""

    path: str
    name: str
    version: str
    sha256: str
    size_bytes: int
    arena_bytes: int  # measured on the host (64-bit build): an upper bound for a 32-bit board


class BenchSettings(_Model):
    inferences: int
    warmup: int
    power_interval_ms: int
    target: str


class BoardBench(_Model):
    """One board's figures (units in the names; None where the data did not allow a figure).

    `status`: ok (every figure measured), partial (stopped early: figures over what was
    collected), failed (deploy refused or failed, board lost; `reason` says why).
    """

    board: str
    uid: str
    profile: str | None = None
    status: BoardStatus
    reason: str | None = None
    deploy: str | None = None  # confirmed, skipped (already ran it), refused, failed, rolled_back
    model_prefix: str | None = None  # hash prefix the board's results carried
    inferences: int = 0  # results measured (latency statistics are over these)
    latency_median_us: float | None = None
    latency_p90_us: int | None = None
    latency_p99_us: int | None = None
    latency_mean_us: float | None = None
    latency_min_us: int | None = None
    latency_max_us: int | None = None
    inferences_per_s: float | None = None
    duty_cycle: float | None = None
    power_mw: float | None = None
    energy_per_inference_uj: float | None = None
    energy_std_uj: float | None = None
    energy_min_uj: float | None = None
    energy_max_uj: float | None = None
    energy_intervals: int = 0  # values behind the spread (POWER intervals merged to span >= 1 inference)
    energy_resolution_uj: float | None = None
    energy_window_s: float | None = None
    # Who measured power and energy (fleet.telemetry.power_source): modelled, sensor or meter:<kind> <serial>.
    energy_source: str | None = None
    energy_method: Literal["board", "marker", "timestamp"] | None = None  # board: the board's POWER; else a meter's
    power_samples: int = 0  # POWER samples in the energy window
    lost_results: int = 0  # inferences the board counted but whose result did not arrive
    restarts: int = 0  # measurements started over after a board reset
    arena_used_bytes: int | None = None
    arena_source: Literal["board", "host"] | None = None
    arena_bytes: int | None = None  # the board's tensor arena
    flash_used_bytes: int | None = None
    slot_bytes: int | None = None  # the board's model slot


class BoardRatio(_Model):
    """This run / the baseline, per board (matched by uid, else by name); >1 means more."""

    board: str
    uid: str
    latency_median: float | None = None
    latency_p99: float | None = None
    inferences_per_s: float | None = None
    power: float | None = None
    energy_per_inference: float | None = None
    note: str | None = None  # why a figure has no ratio (energy from different kinds of source)


class Comparison(_Model):
    against: ModelRef
    source: Literal["model", "file"]
    baseline: list[BoardBench]
    ratios: list[BoardRatio]


class BenchReport(_Model):
    format: Literal["fleet-bench"] = FORMAT
    version: int = VERSION
    fleet_version: str
    started: float
    duration_s: float
    model: ModelRef
    settings: BenchSettings
    boards: list[BoardBench]
    comparison: Comparison | None = None

    @property
    def ok(self) -> bool:
        return bool(self.boards) and all(b.status == "ok" for b in self.boards)


def load_report(path: str | Path) -> BenchReport:
    """A report saved by `fleet bench --json` or `--out`; ConfigError naming the file otherwise."""
    path = Path(path)
    try:
        return BenchReport.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read bench report: {exc.strerror or exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise ConfigError(f"{path}: not a fleet bench report ({where}: {first['msg']})") from None


CSV_COLUMNS = ["model", "model_sha256", *BoardBench.model_fields]


def csv_text(*reports: BenchReport) -> str:
    """One line per (model, board) of every report, columns `CSV_COLUMNS`; empty cells for None."""
    rows = [{"model": r.model.name, "model_sha256": r.model.sha256, **b.model_dump()} for r in reports for b in r.boards]
    return _csv(CSV_COLUMNS, rows)


def ratios_csv_text(comparison: Comparison) -> str:
    """One line per board of a comparison: this run / the baseline for each figure."""
    return _csv(list(BoardRatio.model_fields), [r.model_dump() for r in comparison.ratios])


def _csv(columns: list[str], rows: list[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()
