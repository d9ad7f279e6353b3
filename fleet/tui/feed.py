"""What the TUI keeps beside the manager's board states: chart history, the log, deploy progress.

`Feed.ingest(events)` folds a batch of telemetry events (already applied to the source's
`BoardState`s by the manager or the replay) and returns the discrete changes the screens
should hear about: boards that appeared or changed state, new log lines, deploy steps.
Results, power, a meter's trace and energy go only into the chart history (and its current
trace): the table reads rates and percentiles from `BoardState.stats` when it refreshes, at
its own bounded rate. Results and power samples, nearly every event, are only appended to
their board's pending lists here and folded in bulk later (`fleet.tui.history`).

No Textual here, so this is tested, and benchmarked, without a terminal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from fleet.telemetry.events import (
    BootEvent,
    DeployNotice,
    EnergyEvent,
    LogEvent,
    PowerEvent,
    ResultEvent,
    StateEvent,
    TelemetryEvent,
    TraceEvent,
)  # fmt: skip
from fleet.telemetry.fanout import Consumer
from fleet.telemetry.state import BoardState
from fleet.tui.deploy_tracker import DeployTracker
from fleet.tui.history import Histories, Labels
from fleet.tui.loglines import BOOT_REASONS, LogLine, LogStore, deploy_line


class Source(Protocol):
    """What the TUI renders: a FleetManager, or a ReplaySource of a recording."""

    @property
    def boards(self) -> Mapping[str, BoardState]: ...

    def subscribe(self, maxsize: int = 4096, name: str = "") -> Consumer: ...


@dataclass(slots=True)
class Changes:
    """What one batch changed, beyond numbers."""

    boards: set[str] = field(default_factory=set)  # uids that appeared or changed connection state
    logs: list[LogLine] = field(default_factory=list)
    deploys: list[DeployNotice] = field(default_factory=list)


class Feed:
    """Folds events for one source; see the module doc."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.histories = Histories(self._labels)
        self.logs = LogStore()
        self.deploy = DeployTracker()
        self.events = 0
        self._states: dict[str, str] = {}
        self._results: dict[str, list[ResultEvent]] = {}  # each board's pending lists, by uid
        self._powers: dict[str, list[PowerEvent]] = {}

    def _labels(self, uid: str) -> Labels:
        board = self.source.boards.get(uid)
        return board.model_labels if board is not None else {}

    def ingest(self, events: Sequence[TelemetryEvent]) -> Changes:
        """Fold a batch (in the order the source published it); returns what the screens should hear."""
        changes = Changes()
        self.events += len(events)
        results, powers = self._results, self._powers
        for event in events:
            # Exact classes first (type(): no attribute read): a result or a power sample costs
            # a dict lookup and an append.
            cls = type(event)
            if cls is ResultEvent:
                held = results.get(event.uid)
                if held is None:
                    held = results[event.uid] = self.histories.held(event.uid).pending_results
                held.append(event)
            elif cls is PowerEvent:
                held = powers.get(event.uid)
                if held is None:
                    held = powers[event.uid] = self.histories.held(event.uid).pending_powers
                held.append(event)
            else:
                self._ingest_other(event, changes)
        self.histories.fold_full()
        return changes

    def _ingest_other(self, event: TelemetryEvent, changes: Changes) -> None:
        if isinstance(event, TraceEvent):
            self.histories.get(event.uid).trace.add_trace(event)  # after what came before it
        elif isinstance(event, EnergyEvent):
            self.histories.get(event.uid).trace.add_energy(event)
        elif isinstance(event, LogEvent):
            changes.logs.append(self.logs.add(LogLine(event.host_time, event.board, event.level, event.text)))
        elif isinstance(event, StateEvent):
            if self._states.get(event.uid) != event.state:
                self._states[event.uid] = event.state
                changes.boards.add(event.uid)
                changes.logs.append(self.logs.add(LogLine.from_state(event)))
        elif isinstance(event, BootEvent):
            reason = BOOT_REASONS.get(event.reason, str(event.reason))
            changes.logs.append(self.logs.add(LogLine(event.host_time, event.board, 1, f"booted ({reason})")))
        elif isinstance(event, DeployNotice):
            self.deploy.apply(event.event)
            changes.deploys.append(event)
            line = deploy_line(event)
            if line is not None:
                changes.logs.append(self.logs.add(line))
