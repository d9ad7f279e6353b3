"""End to end, as a user runs it: `fleet sim --meter ppk2`, then `fleet scan`, `fleet monitor`
and `fleet bench` as subprocesses, with a private sim registry."""

from __future__ import annotations

import json
import statistics

import pytest

from tests.support.sim import require_sim

require_sim()  # runs virtual boards

from fleet.models.bundled import bundled_model  # noqa: E402
from fleet.profiles import get_profile  # noqa: E402
from tests.support.cli import fleet, monitor_until, sim_process  # noqa: E402

pytestmark = pytest.mark.slow


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
        assert statistics.median(e["energy_uj"] for e in energy) == pytest.approx(
            profile.active_mw * latency / 1000, rel=0.05)  # fmt: skip

    bench = fleet(env, tmp_path, "bench", str(bundled_model("gesture")), "--to", "all", "--inferences", "30", "--json")
    assert bench.returncode == 0, bench.stderr
    rows = json.loads(bench.stdout)["boards"]
    for row in rows:
        assert row["energy_source"] == labels[row["uid"]] and row["energy_method"] == "marker"
        assert row["energy_per_inference_uj"] == pytest.approx(profile.active_mw * latency / 1000, rel=0.05)
