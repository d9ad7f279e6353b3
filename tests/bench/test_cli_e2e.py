"""End to end, as a user runs it: `fleet sim` on real PTYs in one process, `fleet bench` in another."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.support.sim import require_sim

require_sim()  # runs virtual boards

from fleet.models.bundled import bundled_model  # noqa: E402
from fleet.models.inspect import inspect_model  # noqa: E402
from tests.support.cli import fleet, sim_process  # noqa: E402


@pytest.fixture
def sim(env, tmp_path):
    """Two virtual boards of different profiles, running the bundled sine model."""
    with sim_process(env, tmp_path, 2, "--profile", "mixed", "--seed", "5", "--model", str(bundled_model("sine"))) as up:
        yield up


@pytest.mark.timeout(180)
def test_bench_deploys_measures_and_writes_json_csv_and_chart(sim, env, tmp_path):
    out_dir = tmp_path / "report"
    gesture = bundled_model("gesture")
    proc = fleet(env, tmp_path, "bench", str(gesture), "--to", "all", "--inferences", "20", "--out", str(out_dir),
                 "--json", timeout=150)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    sha = inspect_model(gesture.read_bytes()).sha256
    assert report["model"]["sha256"] == sha and report["model"]["name"] == "gesture"
    assert {b["uid"] for b in report["boards"]} == {b["uid"] for b in sim}
    for row in report["boards"]:
        assert row["status"] == "ok" and row["deploy"] == "confirmed" and row["model_prefix"] == sha[:8]
        assert row["inferences"] >= 20 and row["latency_median_us"] > 0
        assert row["energy_per_inference_uj"] > 0 and row["power_mw"] > 0 and row["inferences_per_s"] > 0
    assert {b["profile"] for b in report["boards"]} == {s["profile"] for s in sim}
    assert "measuring" in proc.stderr  # progress while it runs

    rows = list(csv.DictReader(io.StringIO((out_dir / "bench.csv").read_text())))
    assert sorted(r["uid"] for r in rows) == sorted(b["uid"] for b in sim)
    png = (out_dir / "bench.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 0
    assert json.loads((out_dir / "bench.json").read_text()) == report

    # The saved report is a baseline for the next run: ratios side by side, table on stdout.
    again = fleet(env, tmp_path, "bench", str(gesture), "--inferences", "20", "--compare", str(out_dir / "bench.json"),
                  timeout=150)  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    lines = again.stdout.splitlines()
    assert lines[0].split()[:3] == ["BOARD", "PROFILE", "STATUS"] and "xuJ" in lines[0]
    assert len(lines) == 3 and all("ok" in line for line in lines[1:])
