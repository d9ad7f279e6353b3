"""`fleet deploy MODEL --to TARGET`: push a model to boards, verified, with rollback.

Exit codes: 0 every target runs the model (confirmed, or already had it); 1 some board
failed or rolled back, or the rollout stopped; 2 usage or configuration error; 3 pre-flight
refused some board (nothing was sent to it).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from fleet.cli.deploy_view import DeployView
from fleet.cli.main import report
from fleet.config import load_config
from fleet.connect import board_connector
from fleet.deploy.board_deploy import DeployOptions, DeployTarget
from fleet.deploy.events import DeployEvent
from fleet.deploy.model_file import load_model_file
from fleet.deploy.preflight import preflight
from fleet.deploy.rollout import RolloutPlan, exit_code, run_rollout
from fleet.discovery import scan
from fleet.errors import ConfigError, FleetError, ModelError
from fleet.targets import select


async def _targets(args: argparse.Namespace, config) -> list[DeployTarget]:  # noqa: ANN001
    results = await scan(config)
    found = [r for r in results if r.status == "ok"]
    if not found:
        hint = "start `fleet sim`, plug a board in, or list boards in devices.toml"
        if why := "; ".join(r.error for r in results if r.status == "error" and r.error):  # boards that answered wrongly
            raise FleetError(f"no board could be reached ({why})", hint=hint)
        raise ConfigError("no boards found to deploy to", hint=hint)
    chosen = select(found, config, args.to)
    return [
        DeployTarget(r.name, r.uid or "", r.candidate.port,
                     board_connector(r.name, r.uid or "", r.candidate.port, r.candidate.baud, config))
        for r in chosen
    ]  # fmt: skip


async def _dry_run(targets: list[DeployTarget], model, plan: RolloutPlan, emit) -> int:  # noqa: ANN001
    emit(DeployEvent(event="plan", boards=[t.name for t in targets], strategy=plan.strategy, model=model.name,
                     version=model.version, sha256=model.info.sha256, total=len(model.data)))  # fmt: skip
    refused = False
    for target in targets:
        client = await target.connect()
        try:
            assert client.info is not None
            check = preflight(model, client.info, target.name)
        finally:
            await client.close()
        kind = "skipped" if check.same_model else ("preflight" if check.ok else "refused")
        refused |= kind == "refused"
        emit(DeployEvent(event=kind, board=target.name, uid=target.uid, port=target.port,
                         reason=check.message.split(": ", 1)[1]))  # fmt: skip
    return 3 if refused else 0


def _latency_budget_us(ms: float | None) -> int | None:
    return int(ms * 1000) if ms else None


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    rollout = config.rollout
    plan_strategy = args.strategy or rollout.strategy
    options = DeployOptions(
        health_inferences=rollout.health_inferences if args.health_inferences is None else args.health_inferences,
        health_timeout_s=args.health_timeout or rollout.health_timeout_s,
        max_latency_us=_latency_budget_us(args.max_latency_ms or rollout.max_latency_ms),
    )
    try:
        model = load_model_file(args.model)
    except ModelError as exc:  # the file itself fails pre-flight: nothing can be sent anywhere
        report(exc)
        return 3
    view = DeployView(json_lines=args.json, stream=sys.stdout)

    async def main() -> int:
        targets = await _targets(args, config)
        plan = RolloutPlan(
            targets, plan_strategy, args.concurrency or rollout.concurrency,
            rollout.max_failures if args.max_failures is None else args.max_failures,
        )  # fmt: skip
        if args.dry_run:
            return await _dry_run(targets, model, plan, view.emit)
        results = await run_rollout(plan, model, options, view.emit)
        return exit_code(results)

    try:
        return asyncio.run(main())
    finally:
        view.close()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "deploy", help="push a model to boards (verified, resumable, with rollback)", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("model", metavar="MODEL", help=".tflite file (a manifest MODEL.json beside it is used if present)")
    p.add_argument("--to", default="all", metavar="TARGET",
                   help="'all', board names, tags, groups, uids or ports, comma-separated (default: all)")  # fmt: skip
    p.add_argument("--strategy", choices=["all", "canary"], help="canary: one board first (default from devices.toml)")
    p.add_argument("--concurrency", type=int, metavar="N", help="boards deployed in parallel")
    p.add_argument("--max-failures", type=int, metavar="N", help="stop the rollout after N failed boards (0: never)")
    p.add_argument("--health-inferences", type=int, metavar="N", help="results the new model must stream")
    p.add_argument("--health-timeout", type=float, metavar="S", help="seconds allowed for the health check")
    p.add_argument("--max-latency-ms", type=float, metavar="MS", help="fail the health check above this median latency")
    p.add_argument("--dry-run", action="store_true", help="print the plan and pre-flight verdicts; send nothing")
    p.add_argument("--json", action="store_true", help="one JSON event per line")
    p.set_defaults(func=run)
