"""`fleet deploy MODEL --to TARGET`: push a model to boards, verified, with rollback.

`--to all` means every board fleet knows: those that answer, those devices.toml names,
those `fleet sim` runs (even unplugged for a moment) and those another fleet process holds;
one that does not answer in time is reported unreachable, one held elsewhere busy.
A target whose uid answers on two ports at once (a cloned or lying board) stops the deploy
before anything is sent: fleet cannot tell which board is which.

Exit codes: 0 every target runs the model, confirmed (now, or it already did); 1 a board
failed, rolled back or was stopped, or was refused while others took the model; 2 usage or
configuration error; 3 nothing was sent: pre-flight refused; 4 nothing failed, but some
targets were busy or unreachable (run it again).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from fleet.cli.deploy_view import DeployView
from fleet.cli.main import report
from fleet.config import load_config
from fleet.connect import board_connector
from fleet.deploy.board_deploy import BoardDeploy, BoardResult, DeployOptions, DeployTarget
from fleet.deploy.compose import deploy_options, plan_rollout
from fleet.deploy.events import DeployEvent
from fleet.deploy.model_file import load_model_file
from fleet.deploy.preflight import preflight_board
from fleet.deploy.rollout import RolloutPlan, exit_code, run_rollout
from fleet.errors import ConfigError, ModelError, UidConflict
from fleet.roster import known_boards
from fleet.targets import select


async def _targets(args: argparse.Namespace, config) -> list[DeployTarget]:  # noqa: ANN001
    roster = await known_boards(config)
    if not roster:
        raise ConfigError("no boards found to deploy to", hint="start `fleet sim`, plug a board in, or list boards in devices.toml")
    chosen = select(roster, config, args.to)
    for board in chosen:
        if board.status == "conflict":  # neither board may get a model meant for "that uid"
            ports = tuple(b.port for b in roster if b.status == "conflict" and b.uid == board.uid)
            raise UidConflict(board.uid or "", ports)
    return [
        DeployTarget(b.name, b.uid or "", b.port, board_connector(b.name, b.uid, b.port, b.baud, config))
        for b in chosen
    ]  # fmt: skip


async def _dry_run(plan: RolloutPlan, model, options: DeployOptions, emit) -> int:  # noqa: ANN001
    """Reach each target and say what a deploy would do; nothing is sent. Exit code as a rollout's."""
    targets = plan.targets
    emit(DeployEvent(event="plan", boards=[t.name for t in targets], strategy=plan.strategy, model=model.name,
                     version=model.version, sha256=model.info.sha256, total=len(model.data)))  # fmt: skip
    results = []
    for target in targets:
        deploy = BoardDeploy(target, model, options, emit)
        try:
            info = await deploy.reach()
            if isinstance(info, BoardResult):
                results.append(info)
                continue
            check = await preflight_board(model, deploy.client, target.name, info)
        finally:
            await deploy.close()
        kind = "skipped" if check.same_model else ("preflight" if check.ok else "refused")
        reason = "; ".join(check.reasons) if kind == "refused" else check.message.split(": ", 1)[1]
        if check.on_trial and check.ok:
            reason = "runs this model on trial, not confirmed: the deploy would health-check it and confirm it"
        emit(DeployEvent(event=kind, board=target.name, uid=target.uid, port=target.port, reason=reason))
        results.append(BoardResult(target.name, "refused" if kind == "refused" else "skipped"))
    return exit_code(results)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    options = deploy_options(
        config.rollout, health_inferences=args.health_inferences, health_timeout_s=args.health_timeout,
        max_latency_ms=args.max_latency_ms, reconnect_window_s=args.reconnect_window, compress=not args.no_compress,
    )  # fmt: skip
    try:
        model = load_model_file(args.model)
    except ModelError as exc:  # the file itself fails pre-flight: nothing can be sent anywhere
        report(exc)
        return 3
    view = DeployView(json_lines=args.json, stream=sys.stdout)

    async def main() -> int:
        plan = plan_rollout(config.rollout, await _targets(args, config), strategy=args.strategy,
                            concurrency=args.concurrency, max_failures=args.max_failures)  # fmt: skip
        if args.dry_run:
            return await _dry_run(plan, model, options, view.emit)
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
    p.add_argument("--reconnect-window", type=float, metavar="S",
                   help="seconds a board may take to answer, or to come back after a reset or unplug, before it is "
                        "reported unreachable (default 30)")  # fmt: skip
    p.add_argument("--no-compress", action="store_true",
                   help="send plain chunks, never a compressed or delta stream (PROTOCOL.md section 10)")  # fmt: skip
    p.add_argument("--dry-run", action="store_true", help="print the plan and pre-flight verdicts; send nothing")
    p.add_argument("--json", action="store_true", help="one JSON event per line")
    p.set_defaults(func=run)
