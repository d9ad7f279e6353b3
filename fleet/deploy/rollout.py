"""Rollouts: one model to many boards, in parallel, with a canary and a failure threshold.

Strategy `all` deploys to every target at once (up to `concurrency` in parallel). `canary`
deploys to one board first, one at a time until one board has taken the model, then to the
rest. Once `max_failures` boards have failed (0: never stop), no further board is started:
those are reported as `stopped`. A board refused by pre-flight, busy (another process
drives it) or unreachable is not a failure (nothing was sent), but the rollout is not
complete either; `exit_code` says which.
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
FAILED = frozenset({"failed", "rolled_back", "unknown"})
DONE = frozenset({"confirmed", "skipped"})  # the board runs the model, confirmed
NOT_REACHED = frozenset({"busy", "unreachable"})

# Exit codes of a rollout (docs/deploy.md, README "Exit codes").
EXIT_OK = 0  # every target runs the model, confirmed (now, or it already did)
EXIT_FAILED = 1  # a board failed, rolled back or is in doubt (or was stopped), or was refused while others took it
EXIT_REFUSED = 3  # nothing was sent anywhere: pre-flight refused (the rest already ran the model)
EXIT_INCOMPLETE = 4  # nothing failed, but some targets were busy or unreachable: run it again


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
            if results[target.name].outcome in DONE:
                break
    if not stop:
        await asyncio.gather(*(one(t) for t in pending))

    for target in plan.targets:
        if target.name not in results:
            reason = f"rollout stopped after {failures} failed board(s)"
            emit(DeployEvent(event="stopped", board=target.name, uid=target.uid, port=target.port, reason=reason))
            results[target.name] = BoardResult(target.name, "stopped", reason)
    ordered = [results[t.name] for t in plan.targets]
    emit(DeployEvent(event="done", summary=dict(Counter(r.outcome for r in ordered))))
    return ordered


def exit_code(results: list[BoardResult]) -> int:
    """What a script needs to know, most serious first: 1 a board failed, rolled back or
    was stopped, or some were refused while others took the model; 3 nothing was sent
    because pre-flight refused; 4 some targets were busy or unreachable (nothing failed:
    running it again may finish the job); 0 every target runs the model."""
    outcomes = {r.outcome for r in results}
    if outcomes & (FAILED | {"stopped"}):
        return EXIT_FAILED
    if "refused" in outcomes:
        return EXIT_FAILED if "confirmed" in outcomes else EXIT_REFUSED
    if outcomes & NOT_REACHED:
        return EXIT_INCOMPLETE
    return EXIT_OK
