"""The bench recovers a board's known latency and power from its streamed data alone.

Virtual boards get custom profiles whose figures are chosen so the expected values are
round numbers, derived from first principles (docs/virtual-boards.md, fleet/sim/power.py):

- latency_us = round(macs / (cpu_hz * macs_per_cycle) * 1e6) + 50 (fleet/sim/loader.py);
- streaming every inference (result_interval 0) with no line pacing, the board infers back
  to back, so it is busy all the time: average power = active_mw, and
  energy per inference = active_mw * latency_us / 1000 µJ.

Tolerances come from what the stream can resolve: energy_uj is floored to whole µJ at both
ends of the window, so energy per inference is within 1/ΔN µJ (ΔN the inferences in the
window, reported as energy_resolution_uj) and power within 1 µJ / window.
"""

from __future__ import annotations

import pytest

from fleet.bench.run import BenchOptions, bench_streams, run_bench
from fleet.models.arena import measure_arena
from fleet.models.bundled import bundled_model
from fleet.models.inspect import inspect_model
from fleet.profiles import get_profile
from tests.support.farm import managed_farm

GESTURE = bundled_model("gesture")
MACS = inspect_model(GESTURE.read_bytes()).macs  # 4544


def known_profile(name: str, latency_work_us: int, idle_mw: float, active_mw: float):
    """A profile on which the gesture model's invoke takes `latency_work_us` + 50 µs."""
    # macs / (cpu_hz * 0.5) s = latency_work_us µs  =>  cpu_hz = macs * 2e6 / latency_work_us
    cpu_hz = MACS * 2_000_000 // latency_work_us
    assert MACS * 2_000_000 % latency_work_us == 0
    return get_profile("nano33ble").model_copy(update=dict(
        name=name, cpu_hz=cpu_hz, macs_per_cycle=0.5, idle_mw=idle_mw, active_mw=active_mw, voltage_mv=3300))  # fmt: skip


async def test_report_recovers_known_latency_and_power_and_reports_a_failing_board(tmp_path):
    fast = known_profile("known-fast", 2000, idle_mw=5.0, active_mw=40.0)  # 2050 µs, 82 µJ/inference
    slow = known_profile("known-slow", 3200, idle_mw=12.0, active_mw=75.0)  # 3250 µs, 243.75 µJ/inference
    sine = bundled_model("sine").read_bytes()
    # Runs sine (what every board starts with) but has too little arena for gesture: refused.
    tiny = get_profile("nano33ble").model_copy(update=dict(name="tiny-arena", arena_bytes=measure_arena(sine)))
    async with managed_farm(sine, profiles=[fast, slow, tiny], model_name="preloaded", exact_time=True,
                            streams=bench_streams(10), offline_after_s=5.0) as (_, manager):  # fmt: skip
        report = await run_bench(manager, GESTURE, BenchOptions(inferences=60, warmup=5, timeout_s=120))

    rows = {b.profile: b for b in report.boards}
    assert set(rows) == {"known-fast", "known-slow", "tiny-arena"}
    for profile, latency in ((fast, 2050), (slow, 3250)):
        row = rows[profile.name]
        assert row.status == "ok", row.reason
        assert row.deploy == "confirmed"
        assert row.inferences >= 60 and row.lost_results == 0
        # Latency: exact, every result carries the simulated invoke time.
        assert (row.latency_median_us, row.latency_p90_us, row.latency_p99_us) == (latency, latency, latency)
        assert row.inferences_per_s == pytest.approx(1e6 / latency, rel=1e-6)
        assert row.duty_cycle == pytest.approx(1.0)
        expected_uj = profile.active_mw * latency / 1000
        assert row.energy_resolution_uj is not None and row.energy_resolution_uj < 0.1
        assert abs(row.energy_per_inference_uj - expected_uj) <= row.energy_resolution_uj + 1e-3
        assert abs(row.power_mw - profile.active_mw) <= 1000 / (row.energy_window_s * 1e6) + 1e-3
        assert row.energy_intervals >= 2 and row.power_samples >= 3
        assert row.energy_min_uj <= row.energy_per_inference_uj <= row.energy_max_uj
        assert row.model_prefix == report.model.sha256[:8]
        assert row.arena_source == "board" and row.arena_used_bytes == report.model.arena_bytes
        assert row.flash_used_bytes == GESTURE.stat().st_size
        assert (row.arena_bytes, row.slot_bytes) == (profile.arena_bytes, profile.slot_bytes)

    failed = rows["tiny-arena"]
    assert failed.status == "failed" and failed.deploy == "refused"
    assert "arena" in failed.reason and failed.latency_median_us is None
    assert not report.ok
