"""The deploy worker: runs `FleetManager.deploy` for a confirmed request, off the UI's hands.

Steps reach the screen through the manager's events (the pump); the end, or an error that
stopped the deploy before it began, is posted here.
"""

from __future__ import annotations

from textual.message_pump import MessagePump

from fleet.deploy.compose import NO_BUDGET, deploy_options
from fleet.errors import FleetError
from fleet.tui.backend import Backend, DeployRequest
from fleet.tui.messages import ActionFailed, DeployFinished


async def run_deploy(backend: Backend, request: DeployRequest, target: MessagePump) -> None:
    # The dialog starts from devices.toml's budget; left empty (or 0) it means no budget.
    options = deploy_options(backend.config.rollout, max_latency_ms=request.max_latency_ms or NO_BUDGET)
    try:
        results = await backend.manager.deploy(request.model, request.target, request.strategy, options)
    except FleetError as exc:
        target.post_message(DeployFinished([]))
        target.post_message(ActionFailed(exc, "check the model file and the target boards, then deploy again (d)"))
        return
    target.post_message(DeployFinished(results))
