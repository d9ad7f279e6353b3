"""Rollouts: one model to many boards, in parallel, with a canary and a failure threshold.

Strategy `all` deploys to every target at once (up to `concurrency` in parallel). `canary`
deploys to one board first, one at a time until one board has taken the model, then to the
rest. Once `max_failures` boards have failed (0: never stop), no further board is started:
those are reported as `stopped`. A board refused by pre-flight is not a failure (nothing was
sent), but counts against exit code 0.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from fleet.deploy.board_deploy import BoardDeploy, BoardResult, DeployOptions, DeployTarget, Emit
from fleet.deploy.events import DeployEvent
from fleet.deploy.model_file import ModelFile

Strategy = Literal["all", "canary"]
FAILED = frozenset({"failed", "rolled_back"})


@dataclass(frozen=True, slots=True)
class RolloutPlan:
    targets: list[DeployTarget]
    strategy: Strategy = "canary"
    concurrency: int = 8
    max_failures: int = 1


async def run_rollout(plan: RolloutPlan, model: ModelFile, options: DeployOptions, emit: Emit) -> list[BoardResult]:
    """Deploy to every target per the plan; one BoardResult per target, in target order."""
    emit(DeployEvent(event="plan", boards=[t.name for t in plan.targets], strategy=plan.strategy, model=model.name,
                     version=model.version, sha256=model.info.sha256, total=len(model.data)))  # fmt: skip
    results: dict[str, BoardResult] = {}
    failures = 0
    stop = False
    semaphore = asyncio.Semaphore(plan.concurrency)

    async def one(target: DeployTarget) -> None:
        nonlocal failures, stop
        async with semaphore:
            if stop:
                return
            result = await BoardDeploy(target, model, options, emit).run()
        results[target.name] = result
        if result.outcome in FAILED:
            failures += 1
            if plan.max_failures and failures >= plan.max_failures:
                stop = True

    pending = list(plan.targets)
    if plan.strategy == "canary":
        while pending and not stop:
            target = pending.pop(0)
            await one(target)
            if results[target.name].outcome in ("confirmed", "skipped"):
                break
    if not stop:
        await asyncio.gather(*(one(t) for t in pending))

    for target in plan.targets:
        if target.name not in results:
            reason = f"rollout stopped after {failures} failed board(s)"
            emit(DeployEvent(event="stopped", board=target.name, uid=target.uid, port=target.port, reason=reason))
            results[target.name] = BoardResult(target.name, "failed", reason)
    ordered = [results[t.name] for t in plan.targets]
    emit(DeployEvent(event="done", summary=dict(Counter(r.outcome for r in ordered))))
    return ordered


def exit_code(results: list[BoardResult]) -> int:
    """0 every target runs the model, 1 some failed or were stopped, 3 some refused by pre-flight."""
    outcomes = {r.outcome for r in results}
    if outcomes & FAILED:
        return 1
    if "refused" in outcomes:
        return 3
    return 0
