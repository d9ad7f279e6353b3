"""Playing a recording back through the same hub, consumers and board states as a live session.

    source = ReplaySource(open_recording(path), speed=1.0)   # speed None: as fast as consumers take them
    consumer = source.subscribe()
    await source.run()

`ReplaySource` offers what a renderer uses from the fleet manager (`boards`, `subscribe`),
so `fleet monitor`'s table and the TUI show a replay exactly as they showed the session.
Events are paced by their `host_time` (divided by `speed`), and delivered with
`publish_wait`: a replay never drops events, it waits for slow consumers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import MappingProxyType

from typing import Protocol

from fleet.telemetry.events import ResultEvent, StateEvent, TelemetryEvent
from fleet.telemetry.fanout import Consumer, EventHub
from fleet.telemetry.labels import ModelCatalog, resolve_labels
from fleet.telemetry.recording import Recording
from fleet.telemetry.state import BoardState

# A gap longer than this (a paused session) is played as this long at real speed.
MAX_GAP_S = 5.0


class ReplayClock(Protocol):
    """What paces a replay: the event loop's clock (`LoopClock`), or a fake one in tests."""

    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopClock:
    """The event loop's clock and `asyncio.sleep`."""

    def time(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ReplaySource:
    """Replays one recording; see the module doc."""

    def __init__(self, recording: Recording, *, speed: float | None = 1.0, max_gap_s: float = MAX_GAP_S,
                 catalog: ModelCatalog | None = None, clock: ReplayClock | None = None) -> None:  # fmt: skip
        if speed is not None and speed <= 0:
            raise ValueError("replay speed must be > 0")
        self.recording = recording
        self.speed = speed
        self.max_gap_s = max_gap_s
        self.clock = clock or LoopClock()
        self.hub = EventHub()
        self.played = 0
        self.catalog = catalog or ModelCatalog()  # output labels (bundled examples' manifests unless given more)
        self._boards: dict[str, BoardState] = {}
        for event in recording.header.boards:
            self._boards[event.uid] = BoardState.from_event(event)

    @property
    def boards(self) -> Mapping[str, BoardState]:
        """Board states by uid, as of the last event played."""
        return MappingProxyType(self._boards)

    def subscribe(self, maxsize: int = 4096, name: str = "") -> Consumer:
        return self.hub.subscribe(maxsize, name)

    async def run(self) -> int:
        """Play every event; returns how many. Consumers end when it returns or raises
        (a cut or damaged recording raises `RecordingTruncated` or `RecordingDamaged` after its
        last good event)."""
        clock = self.clock
        start_wall: float | None = None
        start_loop = 0.0
        last_time: float | None = None
        offset = 0.0  # time squeezed out of long gaps
        try:
            for event in self.recording.events():
                if self.speed is not None:
                    if start_wall is None:
                        start_wall, start_loop = event.host_time, clock.time()
                    elif last_time is not None and event.host_time - last_time > self.max_gap_s:
                        offset += event.host_time - last_time - self.max_gap_s
                    last_time = max(last_time or event.host_time, event.host_time)
                    due = start_loop + (event.host_time - start_wall - offset) / self.speed
                    delay = due - clock.time()
                    if delay > 0:
                        await clock.sleep(delay)
                self._apply(event)
                await self.hub.publish_wait(event)
                self.played += 1
                if self.speed is None and self.played % 256 == 0:
                    await asyncio.sleep(0)  # let consumers run even when none is full
        finally:
            self.hub.close()
        return self.played

    def _apply(self, event: TelemetryEvent) -> None:
        state = self._boards.get(event.uid)
        if state is None:
            if not isinstance(event, StateEvent):
                if not event.uid:
                    return  # rollout-wide deploy steps belong to no board
                state = BoardState(event.board, event.uid, "")
            else:
                state = BoardState(event.board, event.uid, event.port)
            self._boards[event.uid] = state
        state.apply(event)
        # Output labels, as the manager's ingest resolves them: once per model the slots name.
        if isinstance(event, StateEvent):
            state.model_labels.clear()  # the slots may have changed
        elif isinstance(event, ResultEvent) and event.model not in state.model_labels:
            slots = [s.sha256 for s in (state.active, state.previous) if s is not None]
            resolve_labels(self.catalog, event.model, slots, state.model_labels)
