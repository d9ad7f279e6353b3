"""Deploys from the fleet screen: the dialog, the worker, progress notices and the outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleet.tui.messages import DeployFinished, DeploySteps
from fleet.tui.widgets.deploy_panel import DeployPanel
from fleet.tui.widgets.fleet_table import FleetTable

if TYPE_CHECKING:
    from fleet.tui.backend import DeployRequest
    from fleet.tui.screens.fleet import FleetScreen

OUTCOME_SEVERITY = {"rolled_back": "warning", "failed": "error", "refused": "warning", "stopped": "warning"}


class Deploying:
    """The fleet screen's deploy key (d), its dialog and the deploy it starts; mixed into FleetScreen."""

    deploying = False

    def action_deploy(self: FleetScreen) -> None:
        from fleet.tui.screens.deploy import DeployScreen

        if not self.live("deploy"):
            return
        if self.deploying:
            self.notify("A deploy is running; wait for it to finish (its progress is under the table).")
            return
        assert self.backend is not None
        selected = self.query_one(FleetTable).selected_uid
        board = self.source.boards.get(selected) if selected else None
        screen = DeployScreen(self.backend.models(), self.source.boards, self.backend.manager.preflight,
                              self.backend.latency_budget_ms, (board.name,) if board else ())  # fmt: skip
        self.app.push_screen(screen, self.deploy_chosen)

    def deploy_chosen(self: FleetScreen, request: DeployRequest | None) -> None:
        if request is not None:
            self.start_deploy(request)

    def start_deploy(self: FleetScreen, request: DeployRequest) -> None:
        """Run a deploy in a worker; progress arrives as DeploySteps, the end as DeployFinished."""
        from fleet.tui.deploy_worker import run_deploy

        assert self.backend is not None
        self.deploying = True
        self.run_worker(run_deploy(self.backend, request, self), name="deploy", group="deploy", exclusive=True)

    def on_deploy_steps(self: FleetScreen, message: DeploySteps) -> None:
        self.query_one(DeployPanel).update_from()
        for notice in message.notices:
            event = notice.event
            severity = OUTCOME_SEVERITY.get(event.event)
            if severity is not None:
                what = event.event.replace("_", " ")
                # Board names and reasons carry board text: never markup (docs/tui.md, "Board text").
                self.notify(f"{event.board}: {what}: {event.reason}", title="deploy", severity=severity,
                            timeout=15, markup=False)  # fmt: skip

    def on_deploy_finished(self: FleetScreen, message: DeployFinished) -> None:
        self.deploying = False
        self.query_one(DeployPanel).update_from()
        if not message.results:
            return  # it never started: ActionFailed said why
        outcomes = [r.outcome for r in message.results]
        text = ", ".join(f"{r.board} {r.outcome.replace('_', ' ')}" for r in message.results)
        bad = any(o not in ("confirmed", "skipped") for o in outcomes)
        self.notify(f"Deploy finished: {text}." + (" Reasons are in the deploy panel and the log (l)." if bad else ""),
                    severity="warning" if bad else "information", timeout=10)  # fmt: skip
