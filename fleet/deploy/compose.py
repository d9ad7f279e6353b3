"""One place composes a deploy: its options and its rollout plan, from `[rollout]` in
devices.toml and what the caller overrides.

`fleet deploy` (its flags), the fleet manager (for the TUI's deploy dialog and `fleet
bench`) all build their `DeployOptions` with `deploy_options` and their `RolloutPlan` with
`plan_rollout`, so a default set in devices.toml means the same thing everywhere.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from fleet.deploy.board_deploy import DeployOptions, DeployTarget
from fleet.deploy.rollout import RolloutPlan, Strategy
from fleet.errors import ConfigError

if TYPE_CHECKING:
    from fleet.config import Rollout

__all__ = ["NO_BUDGET", "deploy_options", "plan_rollout"]

# A latency budget no median exceeds: the health check does not judge latency at all.
NO_BUDGET = math.inf


def deploy_options(
    rollout: Rollout,
    *,
    health_inferences: int | None = None,
    health_timeout_s: float | None = None,
    max_latency_ms: float | None = None,
    reconnect_window_s: float | None = None,
    compress: bool = True,
) -> DeployOptions:
    """How strict and patient a deploy is: each value given here, else devices.toml's.

    `max_latency_ms=NO_BUDGET` turns the latency budget off even when devices.toml sets one;
    `compress=False` sends plain chunks to every board (`--no-compress`).
    Raises ConfigError for a value devices.toml would refuse too (a timeout or budget <= 0...).
    """
    _at_least("health_inferences", health_inferences, 0)
    _above_zero("health_timeout_s", health_timeout_s)
    _above_zero("max_latency_ms", max_latency_ms)
    _above_zero("reconnect_window_s", reconnect_window_s)
    budget_ms = rollout.max_latency_ms if max_latency_ms is None else max_latency_ms
    return DeployOptions(
        health_inferences=rollout.health_inferences if health_inferences is None else health_inferences,
        health_timeout_s=rollout.health_timeout_s if health_timeout_s is None else health_timeout_s,
        max_latency_us=None if budget_ms is None or math.isinf(budget_ms) else round(budget_ms * 1000),
        **({} if reconnect_window_s is None else {"reconnect_window_s": reconnect_window_s}),
        compress=compress,
    )  # fmt: skip


def plan_rollout(
    rollout: Rollout,
    targets: list[DeployTarget],
    *,
    strategy: Strategy | None = None,
    concurrency: int | None = None,
    max_failures: int | None = None,
) -> RolloutPlan:
    """The order and pace of a rollout to `targets`: each value given here, else devices.toml's.

    Raises ConfigError for a concurrency below 1 or a negative `max_failures`.
    """
    _at_least("concurrency", concurrency, 1)
    _at_least("max_failures", max_failures, 0)
    return RolloutPlan(
        targets, strategy or rollout.strategy, rollout.concurrency if concurrency is None else concurrency,
        rollout.max_failures if max_failures is None else max_failures,
    )  # fmt: skip


def _at_least(name: str, value: int | None, low: int) -> None:
    if value is not None and value < low:
        raise ConfigError(f"{name} {value}: a whole number >= {low} expected")


def _above_zero(name: str, value: float | None) -> None:
    if value is not None and not value > 0:
        raise ConfigError(f"{name} {value:g}: a number > 0 expected")
