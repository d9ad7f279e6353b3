"""Rollouts over several virtual boards: canary first, parallel rest, a failure threshold."""

from __future__ import annotations

import dataclasses

import pytest

from fleet.deploy.board_deploy import DeployOptions
from fleet.deploy.rollout import RolloutPlan, exit_code, run_rollout
from fleet.sim.farm import SimFarm

from .conftest import Events, farm_config, target_for

# gesture's simulated latency: pico 733 us, nano33ble 444 us, stm32f746 114 us, esp32s3 84 us.
# A wait, not a tolerance: the check ends at the second result, and a loaded machine only delays it.
BUDGET = DeployOptions(health_inferences=2, health_timeout_s=60.0, max_latency_us=600)


async def test_canary_failure_stops_the_rollout(tmp_path, sine, gesture):
    profiles = ("pico", "nano33ble", "esp32s3")
    async with SimFarm(farm_config(tmp_path, boards=3, profiles=profiles, model=sine.data)) as farm:
        targets = [target_for(b, b.profile) for b in farm.boards]
        events = Events()
        results = await run_rollout(RolloutPlan(targets, "canary", 8, 1), gesture, BUDGET, events)
        assert [r.outcome for r in results] == ["rolled_back", "stopped", "stopped"]
        assert "rollout stopped" in results[1].reason
        assert events.kinds("nano33ble") == ["stopped"]  # never touched
        assert exit_code(results) == 1
        assert events[-1].event == "done" and events[-1].summary == {"rolled_back": 1, "stopped": 2}


async def test_all_strategy_runs_in_parallel_and_reports_each_board(tmp_path, sine, gesture):
    profiles = ("nano33ble", "pico", "esp32s3", "stm32f746disco")
    async with SimFarm(farm_config(tmp_path, boards=4, profiles=profiles, model=sine.data)) as farm:
        targets = [target_for(b, b.profile) for b in farm.boards]
        results = await run_rollout(RolloutPlan(targets, "all", 4, 0), gesture, BUDGET, Events())
        outcome = {r.board: r.outcome for r in results}
        assert outcome == {"nano33ble": "confirmed", "pico": "rolled_back", "esp32s3": "confirmed",
                           "stm32f746disco": "confirmed"}  # fmt: skip
        assert exit_code(results) == 1


async def test_canary_success_then_rest_and_exit_code_zero(tmp_path, sine, gesture):
    async with SimFarm(farm_config(tmp_path, boards=3, profiles=("esp32s3",), model=sine.data)) as farm:
        targets = [target_for(b, f"b{i}") for i, b in enumerate(farm.boards)]
        events = Events()
        options = dataclasses.replace(BUDGET, max_latency_us=None)
        results = await run_rollout(RolloutPlan(targets, "canary", 2, 1), gesture, options, events)
        assert [r.outcome for r in results] == ["confirmed"] * 3
        # The canary confirmed before any other board started.
        first_other = min(i for i, e in enumerate(events) if e.board in ("b1", "b2"))
        assert events.index(next(e for e in events if e.board == "b0" and e.event == "confirmed")) < first_other
        assert exit_code(results) == 0


@pytest.mark.parametrize(
    "outcomes,code",
    [
        (["confirmed", "skipped"], 0),
        (["confirmed", "refused"], 1),  # something was sent: "nothing was sent" would be a lie
        (["skipped", "refused"], 3),
        (["refused", "unreachable"], 3),
        (["confirmed", "busy"], 4),
        (["confirmed", "unreachable"], 4),
        (["rolled_back", "busy"], 1),
        (["failed", "stopped"], 1),
    ],
)
def test_exit_code_of_mixed_outcomes(outcomes, code):
    from fleet.deploy.board_deploy import BoardResult

    assert exit_code([BoardResult(f"b{i}", o) for i, o in enumerate(outcomes)]) == code
