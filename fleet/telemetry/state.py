"""`BoardState`: everything known about one board, folded from its events.

The fleet manager applies every event it publishes to the board's state with
`BoardState.apply`, and a replay applies the recorded events the same way, so a live
session and its replay show the same rows by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fleet.deploy.events import DeployEvent
from fleet.telemetry.events import (
    BoardResources, BootEvent, ConnectionState, DeployNotice, EnergyEvent, LinkEvent, LogEvent, PowerEvent, ResultEvent, SlotView, StateEvent,
    TelemetryEvent,
)  # fmt: skip
from fleet.telemetry.stats import LiveStats


@dataclass(slots=True)
class BoardState:
    """One board as the manager (or a replay) knows it. Read it; only its owner changes it."""

    name: str
    uid: str
    port: str
    profile: str | None = None
    firmware: str | None = None
    tags: tuple[str, ...] = ()
    state: ConnectionState = "connecting"
    active: SlotView | None = None
    previous: SlotView | None = None
    resources: BoardResources | None = None  # arena, slot sizes, clock, slot states: from its last INFO
    reconnects: int = 0
    resets: int = 0
    reason: str | None = None  # why it is not online, when it is not
    stats: LiveStats = field(default_factory=LiveStats)
    link: LinkEvent | None = None
    last_log: LogEvent | None = None
    last_boot: BootEvent | None = None
    deploy: DeployEvent | None = None  # the last deploy step for this board
    updated: float = 0.0  # host_time of the last event applied
    # Output labels of the models its results name, by hash prefix (a result's `model`), as
    # ingest resolved them from the manifests this host knows (`fleet.telemetry.labels`).
    model_labels: dict[str, tuple[str, ...] | None] = field(default_factory=dict)

    @property
    def model_text(self) -> str:
        """`name version` of the running model, or '-'."""
        if self.active is None:
            return "-"
        return f"{self.active.name or self.active.sha256[:8]} {self.active.version}".strip()

    @classmethod
    def from_event(cls, event: StateEvent) -> BoardState:
        state = cls(event.board, event.uid, event.port)
        state.apply(event)
        return state

    def apply(self, event: TelemetryEvent) -> None:
        """Fold one event of this board into the state."""
        self.updated = event.host_time
        if isinstance(event, (ResultEvent, PowerEvent)):
            self.stats.on_stream((event,))
        elif isinstance(event, EnergyEvent):
            self.stats.on_energy(event)
        elif isinstance(event, LinkEvent):
            self.link = event
        elif isinstance(event, StateEvent):
            self.name, self.port, self.state = event.board, event.port, event.state
            self.profile, self.firmware, self.tags = event.profile, event.firmware, event.tags
            self.active, self.previous, self.resources = event.active, event.previous, event.resources
            self.reconnects, self.resets, self.reason = event.reconnects, event.resets, event.reason
        elif isinstance(event, LogEvent):
            self.last_log = event
        elif isinstance(event, BootEvent):
            self.last_boot = event
            self.stats.restart()
        elif isinstance(event, DeployNotice):
            self.deploy = event.event

    def apply_stream(self, events: Sequence[ResultEvent | PowerEvent]) -> None:
        """`apply` of each of this board's results and power samples (a read's worth), in one go."""
        self.updated = events[-1].host_time
        self.stats.on_stream(events)

    def state_event(self, host_time: float, reason: str | None = None) -> StateEvent:
        """A StateEvent describing this board now (what a recording's header and the manager send)."""
        return StateEvent(
            board=self.name, uid=self.uid, host_time=host_time, state=self.state, port=self.port,
            profile=self.profile, firmware=self.firmware, tags=self.tags, active=self.active,
            previous=self.previous, resources=self.resources, reconnects=self.reconnects, resets=self.resets, reason=reason,
        )  # fmt: skip
