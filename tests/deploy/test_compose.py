"""One place composes a deploy: options and plan from devices.toml's [rollout] and overrides."""

import pytest

from fleet.config import Rollout
from fleet.deploy.board_deploy import DeployOptions
from fleet.deploy.compose import NO_BUDGET, deploy_options, plan_rollout
from fleet.errors import ConfigError

ROLLOUT = Rollout(strategy="all", concurrency=3, max_failures=2, health_inferences=7, health_timeout_s=12.5,
                  max_latency_ms=4.25)  # fmt: skip


def test_options_take_every_default_from_the_rollout_config():
    options = deploy_options(ROLLOUT)
    assert (options.health_inferences, options.health_timeout_s, options.max_latency_us) == (7, 12.5, 4250)
    assert options.reconnect_window_s == DeployOptions().reconnect_window_s


def test_options_given_override_the_config_and_zero_inferences_is_a_value():
    options = deploy_options(ROLLOUT, health_inferences=0, health_timeout_s=3.0, max_latency_ms=1.5,
                             reconnect_window_s=9.0)  # fmt: skip
    assert (options.health_inferences, options.health_timeout_s, options.max_latency_us) == (0, 3.0, 1500)
    assert options.reconnect_window_s == 9.0


def test_no_budget_turns_off_the_configured_latency_budget():
    assert deploy_options(ROLLOUT, max_latency_ms=NO_BUDGET).max_latency_us is None
    assert deploy_options(Rollout()).max_latency_us is None


@pytest.mark.parametrize(("key", "value"), [("health_timeout_s", 0.0), ("max_latency_ms", -1.0),
                                            ("reconnect_window_s", 0.0), ("health_inferences", -1)])  # fmt: skip
def test_options_refuse_values_the_config_would_refuse(key, value):
    with pytest.raises(ConfigError, match=key):
        deploy_options(ROLLOUT, **{key: value})


def test_plan_takes_defaults_from_the_config_and_overrides_from_the_caller():
    plan = plan_rollout(ROLLOUT, [])
    assert (plan.strategy, plan.concurrency, plan.max_failures) == ("all", 3, 2)
    plan = plan_rollout(ROLLOUT, [], strategy="canary", concurrency=1, max_failures=0)
    assert (plan.strategy, plan.concurrency, plan.max_failures) == ("canary", 1, 0)


@pytest.mark.parametrize(("key", "value"), [("concurrency", 0), ("max_failures", -1)])
def test_plan_refuses_a_concurrency_below_one_or_negative_failures(key, value):
    with pytest.raises(ConfigError, match=key):
        plan_rollout(ROLLOUT, [], **{key: value})
