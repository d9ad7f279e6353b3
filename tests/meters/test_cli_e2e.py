"""End to end, as a user runs it: `fleet sim --meter ppk2`, then `fleet scan`, `fleet monitor`
and `fleet bench` as subprocesses, with a private sim registry."""

from __future__ import annotations

import json
import statistics

import pytest

from tests.support.sim import require_sim

require_sim()  # runs virtual boards

from fleet.meters.ppk2_driver import PERIOD_US  # noqa: E402
from fleet.models.bundled import bundled_model  # noqa: E402
from fleet.profiles import Profile, get_profile  # noqa: E402
from fleet.sim.meters.activity import MARKER_LOW_US  # noqa: E402
from tests.support.cli import fleet, monitor_until, sim_process  # noqa: E402

pytestmark = pytest.mark.slow

ADC_STEP_A = 0.43e-6  # the PPK2's ADC step for currents up to 7 mA (docs/power.md); the board draws 2-6 mA


def energy_bounds(profile: Profile, latency_us: int, volts: float, missed_us: float) -> tuple[float, float]:
    """Where a marker window's energy of one inference lies (µJ), from how it is cut (docs/power.md,
    "marker windows"): from the start of the first sample that saw the marker high to the
    start of the first that saw it low, the emulator reading the marker at each sample's
    start. It starts up to `missed_us` after the inference does (a sample period; back to
    back, plus the marker's low time between inferences), missing that much at active
    power, and ends up to a sample period after it, taking that much at idle power at most;
    the ADC rounds each sample by half a step."""
    exact = profile.active_mw * latency_us / 1000
    adc = (latency_us + 2 * PERIOD_US) * volts * ADC_STEP_A / 2
    low = exact - missed_us * profile.active_mw / 1000 - adc
    return low, exact + PERIOD_US * profile.idle_mw / 1000 + adc


@pytest.fixture
def sim(env, tmp_path):
    with sim_process(env, tmp_path, 2, "--seed", "5", "--meter", "ppk2", "--model", str(bundled_model("gesture"))) as up:
        yield up


def test_each_virtual_board_is_measured_by_its_own_emulated_ppk2(sim, env, tmp_path):
    labels = {b["uid"]: b["meter"] for b in sim}
    assert all(label.startswith("meter:ppk2 PPK") for label in labels.values())

    scan = fleet(env, tmp_path, "scan", "--json")
    assert scan.returncode == 0, scan.stderr
    report = json.loads(scan.stdout)
    names = {b["uid"]: b["name"] for b in report["boards"]}
    assert {m["meter"]: m["board"] for m in report["meters"]} == {labels[u]: names[u] for u in labels}
    assert {b["port"] for b in report["boards"]}.isdisjoint(m["port"] for m in report["meters"])

    def enough(events) -> bool:  # each board's POWER and its meter's, and 20 energies per board
        seen = {(e["uid"], e["kind"], e.get("source")) for e in events}
        energies = [e["uid"] for e in events if e["kind"] == "energy"]
        return all((u, "power", "modelled") in seen and (u, "power", label) in seen and energies.count(u) >= 20
                   for u, label in labels.items())  # fmt: skip

    events = monitor_until(env, tmp_path, enough, "power from board and meter, 20 energies per board")
    latency = next(e["latency_us"] for e in events if e["kind"] == "result")
    profile = get_profile("nano33ble")
    for uid, label in labels.items():
        power = [e for e in events if e["kind"] == "power" and e["uid"] == uid]
        assert {e["source"] for e in power} == {"modelled", label}  # the board's POWER, and the meter's
        energy = [e for e in events if e["kind"] == "energy" and e["uid"] == uid]
        assert len(energy) >= 20 and {e["source"] for e in energy} == {label}
        volts = next(e["voltage_mv"] for e in power if e["source"] == label) / 1000
        low, high = energy_bounds(profile, latency, volts, PERIOD_US)  # results 50 ms apart: idle around each
        median = statistics.median(e["energy_uj"] for e in energy)
        assert low < median < high, f"median {median:.3f} µJ, not within ({low:.3f}, {high:.3f})"

    bench = fleet(env, tmp_path, "bench", str(bundled_model("gesture")), "--to", "all", "--inferences", "30", "--json")
    assert bench.returncode == 0, bench.stderr
    rows = json.loads(bench.stdout)["boards"]
    low, high = energy_bounds(profile, latency, volts, PERIOD_US + MARKER_LOW_US)  # back to back (or not)
    assert sorted(row["uid"] for row in rows) == sorted(labels)
    for row in rows:
        assert row["energy_source"] == labels[row["uid"]] and row["energy_method"] == "marker"
        assert low < row["energy_per_inference_uj"] < high, row
