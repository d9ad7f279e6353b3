"""Fan-out of telemetry events to any number of consumers, without ever blocking producers.

Each consumer has its own bounded queue. `EventHub.publish` puts the event in every queue
that has room and counts a drop (in total and per board) on every queue that has not, so
a slow consumer loses events, visibly, and never stalls the board readers or the other
consumers. Sinks (the recorder) are plain callbacks called in line, for consumers that
must see everything and do their own buffering.

A replay, which has no live boards to protect, uses `publish_wait` instead: it waits for
room, so no consumer loses anything.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable

from fleet.telemetry.events import TelemetryEvent

_END = object()  # queued when the hub closes: consumers finish iterating


class Consumer:
    """A bounded queue of events for one consumer. Iterate it with `async for`.

    `dropped` counts events this consumer had no room for; `dropped_by_board` the same
    per board name.
    """

    def __init__(self, hub: EventHub, maxsize: int, name: str) -> None:
        self.name = name
        self.maxsize = maxsize
        self.dropped = 0
        self.dropped_by_board: Counter[str] = Counter()
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize)
        self._hub: EventHub | None = hub
        self._ended = False

    def __aiter__(self) -> Consumer:
        return self

    async def __anext__(self) -> TelemetryEvent:
        if self._ended and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)  # later calls end too
            raise StopAsyncIteration
        return item  # type: ignore[return-value]

    async def get(self) -> TelemetryEvent:
        """The next event; raises StopAsyncIteration once the source has ended."""
        return await self.__anext__()

    def get_nowait(self) -> TelemetryEvent | None:
        """The next event if one is queued, else None (also at the end: check `ended`)."""
        try:
            item = self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None
        if item is _END:
            self._queue.put_nowait(_END)
            return None
        return item  # type: ignore[return-value]

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        """Stop receiving events."""
        if self._hub is not None:
            self._hub._consumers.discard(self)
            self._hub = None

    def _offer(self, event: TelemetryEvent) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            self.dropped_by_board[event.board] += 1

    def _end(self) -> None:
        self._ended = True
        # Wakes a consumer waiting on an empty queue; a full queue needs no wake-up (the
        # consumer finds the end once it has taken every queued event).
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(_END)


Sink = Callable[[TelemetryEvent], None]


class EventHub:
    """Publishes events to bounded consumers and to sinks; see the module doc."""

    def __init__(self) -> None:
        self._consumers: set[Consumer] = set()
        self._sinks: list[Sink] = []
        self.published = 0
        self.closed = False

    def subscribe(self, maxsize: int = 4096, name: str = "") -> Consumer:
        """A new consumer that receives every event published from now on."""
        if maxsize <= 0:
            raise ValueError("a consumer queue needs a positive maxsize")
        consumer = Consumer(self, maxsize, name)
        if self.closed:
            consumer._end()
        else:
            self._consumers.add(consumer)
        return consumer

    @property
    def consumers(self) -> tuple[Consumer, ...]:
        return tuple(self._consumers)

    def add_sink(self, sink: Sink) -> None:
        """Call `sink(event)` for every event, in line (it must be quick and never block)."""
        self._sinks.append(sink)

    def remove_sink(self, sink: Sink) -> None:
        if sink in self._sinks:
            self._sinks.remove(sink)

    def publish(self, event: TelemetryEvent) -> None:
        """Deliver to every sink and consumer now; never waits."""
        self.published += 1
        for sink in self._sinks:
            sink(event)
        for consumer in self._consumers:
            consumer._offer(event)

    async def publish_wait(self, event: TelemetryEvent) -> None:
        """Deliver to every sink and consumer, waiting for room in each queue (replays)."""
        self.published += 1
        for sink in self._sinks:
            sink(event)
        for consumer in tuple(self._consumers):
            await consumer._queue.put(event)

    def close(self) -> None:
        """End every consumer's iteration (after the events already queued)."""
        self.closed = True
        for consumer in self._consumers:
            consumer._end()
        self._consumers.clear()
