"""Report edges: JSON round trip, CSV, PNG chart, comparison ratios, the terminal table."""

from __future__ import annotations

import csv
import io
import json

import pytest

from fleet.bench.compare import compare
from fleet.bench.report import CSV_COLUMNS, BenchReport, BenchSettings, BoardBench, ModelRef, csv_text, load_report
from fleet.cli.bench import table_rows, write_outputs
from fleet.errors import ConfigError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def board(name: str, uid: str, latency: float, energy: float | None, **kw) -> BoardBench:
    return BoardBench(board=name, uid=uid, profile="nano33ble", status="ok", deploy="confirmed", inferences=50,
                      latency_median_us=latency, latency_p90_us=int(latency), latency_p99_us=int(latency * 1.1),
                      latency_min_us=int(latency * 0.9), inferences_per_s=1e6 / latency, power_mw=20.0,
                      energy_per_inference_uj=energy, energy_min_uj=energy and energy * 0.95,
                      energy_max_uj=energy and energy * 1.05, arena_used_bytes=3152, flash_used_bytes=5552,
                      **kw)  # fmt: skip


def make_report(name: str, boards: list[BoardBench]) -> BenchReport:
    model = ModelRef(path=f"/m/{name}.tflite", name=name, version="1.0", sha256="ab" * 32, size_bytes=5552,
                     arena_bytes=3152)  # fmt: skip
    return BenchReport(fleet_version="0.1.0", started=1.0, duration_s=2.0, model=model, boards=boards,
                       settings=BenchSettings(inferences=50, warmup=5, power_interval_ms=10, target="all"))  # fmt: skip


def test_comparison_ratios_match_boards_by_uid_then_name():
    current = make_report("small", [board("a", "01", 1000, 10.0), board("b", "02", 4000, 40.0),
                                    board("c", "03", 500, None)])  # fmt: skip
    baseline = make_report("big", [board("a", "01", 2000, 40.0), board("b-renamed", "02", 2000, 20.0),
                                   board("c", "99", 1000, 5.0)])  # fmt: skip
    comparison = compare(current, baseline, "model")
    ratios = {r.board: r for r in comparison.ratios}
    assert (ratios["a"].latency_median, ratios["a"].energy_per_inference) == (0.5, 0.25)
    assert (ratios["b"].latency_median, ratios["b"].energy_per_inference) == (2.0, 2.0)
    assert ratios["a"].inferences_per_s == 2.0 and ratios["a"].power == 1.0
    assert ratios["c"].latency_median == 0.5 and ratios["c"].energy_per_inference is None  # no figure: no ratio
    assert comparison.against.name == "big" and comparison.baseline == baseline.boards


def test_outputs_json_csv_png_and_a_saved_report_loads_back(tmp_path):
    pytest.importorskip("matplotlib", reason="the PNG chart needs the bench extra: pip install -e '.[bench]'")
    report = make_report("gesture", [board("nano-1", "01", 444, 8.79),
                                     BoardBench(board="pico-2", uid="02", status="failed", deploy="refused",
                                                reason="arena 3152 B exceeds the 1024 B tensor arena")])  # fmt: skip
    baseline = make_report("sine", [board("nano-1", "01", 100, 2.0)])
    report.comparison = compare(report, baseline, "model")
    paths = write_outputs(report, tmp_path / "out", baseline)
    names = sorted(p.name for p in paths)
    assert names == ["bench.csv", "bench.json", "bench.png", "compare.csv"]

    loaded = load_report(tmp_path / "out" / "bench.json")
    assert loaded == report
    doc = json.loads((tmp_path / "out" / "bench.json").read_text())
    assert doc["format"] == "fleet-bench" and doc["version"] == 1
    assert doc["boards"][1]["status"] == "failed" and doc["boards"][1]["latency_median_us"] is None

    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "bench.csv").read_text())))
    assert list(rows[0]) == CSV_COLUMNS
    assert [(r["model"], r["board"], r["status"]) for r in rows] == [
        ("gesture", "nano-1", "ok"), ("gesture", "pico-2", "failed"), ("sine", "nano-1", "ok")]
    assert float(rows[0]["energy_per_inference_uj"]) == 8.79 and rows[1]["energy_per_inference_uj"] == ""
    ratios = list(csv.DictReader(io.StringIO((tmp_path / "out" / "compare.csv").read_text())))
    assert ratios[0]["board"] == "nano-1" and float(ratios[0]["latency_median"]) == 4.44

    png = (tmp_path / "out" / "bench.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000


def test_table_has_a_row_per_board_and_ratio_columns_when_comparing():
    report = make_report("gesture", [board("nano-1", "01", 444, 8.79)])
    headers, rows = table_rows(report)
    assert headers[:3] == ["BOARD", "PROFILE", "STATUS"] and "uJ/INF" in headers and "xP50" not in headers
    assert rows[0][headers.index("P50 ms")] == "0.444" and rows[0][headers.index("uJ/INF")] == "8.79"
    report.comparison = compare(report, make_report("sine", [board("nano-1", "01", 222, 4.395)]), "file")
    headers, rows = table_rows(report)
    assert rows[0][headers.index("xP50")] == "2.000" and rows[0][headers.index("xuJ")] == "2.000"


def test_a_file_that_is_not_a_report_is_a_config_error(tmp_path):
    bad = tmp_path / "other.json"
    bad.write_text('{"format": "fleet-telemetry"}')
    with pytest.raises(ConfigError, match="not a fleet bench report"):
        load_report(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_report(tmp_path / "missing.json")
    assert csv_text().splitlines() == [",".join(CSV_COLUMNS)]
