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
from collections import Counter, deque
from collections.abc import Callable

from fleet.telemetry.events import TelemetryEvent

class Consumer:
    """A bounded queue of events for one consumer. Iterate it with `async for`, or take
    what is queued at once with `take()`.

    `dropped` counts events this consumer had no room for; `dropped_by_board` the same
    per board name.
    """

    def __init__(self, hub: EventHub, maxsize: int, name: str) -> None:
        self.name = name
        self.maxsize = maxsize
        self.dropped = 0
        self.dropped_by_board: Counter[str] = Counter()
        # A deque and one waiter instead of an asyncio.Queue: the hub offers every event to
        # every consumer, and a Queue's bookkeeping cost microseconds per event each way.
        self._items: deque[TelemetryEvent] = deque()
        self._waiter: asyncio.Future[None] | None = None  # the consumer waiting for an event
        self._room: asyncio.Future[None] | None = None  # a replay waiting for room (publish_wait)
        self._hub: EventHub | None = hub
        self._ended = False

    def __aiter__(self) -> Consumer:
        return self

    async def __anext__(self) -> TelemetryEvent:
        while not self._items:
            if self._ended:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self._room is not None:
            self._wake_room()
        return self._items.popleft()

    async def get(self) -> TelemetryEvent:
        """The next event; raises StopAsyncIteration once the source has ended."""
        return await self.__anext__()

    def get_nowait(self) -> TelemetryEvent | None:
        """The next event if one is queued, else None (also at the end: check `ended`)."""
        if not self._items:
            return None
        if self._room is not None:
            self._wake_room()
        return self._items.popleft()

    def take(self, limit: int) -> list[TelemetryEvent]:
        """Up to `limit` queued events at once, oldest first (none: an empty list)."""
        items = self._items
        n = min(limit, len(items))
        batch = [items.popleft() for _ in range(n)]
        if n and self._room is not None:
            self._wake_room()
        return batch

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def pending(self) -> int:
        return len(self._items)

    def close(self) -> None:
        """Stop receiving events."""
        if self._hub is not None:
            self._hub._consumers.discard(self)
            self._hub = None
        self._wake_room()  # a replay waiting for room in this queue: nobody will make it

    def _offer(self, event: TelemetryEvent) -> None:
        if len(self._items) >= self.maxsize:
            self.dropped += 1
            self.dropped_by_board[event.board] += 1
            return
        self._items.append(event)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)  # one wake-up, however many events arrive before it runs

    def _offer_batch(self, events: list[TelemetryEvent]) -> None:
        items = self._items
        room = self.maxsize - len(items)
        if room >= len(events):
            items.extend(events)
        else:
            if room > 0:
                items.extend(events[:room])
            for event in events[max(room, 0) :]:
                self.dropped += 1
                self.dropped_by_board[event.board] += 1
        waiter = self._waiter
        if waiter is not None and not waiter.done() and items:
            waiter.set_result(None)

    async def _put(self, event: TelemetryEvent) -> None:
        while len(self._items) >= self.maxsize and self._hub is not None and not self._ended:
            self._room = asyncio.get_running_loop().create_future()
            try:
                await self._room
            finally:
                self._room = None
        self._offer(event)

    def _wake_room(self) -> None:
        if self._room is not None and not self._room.done():
            self._room.set_result(None)

    def _end(self) -> None:
        self._ended = True
        # Wakes a consumer waiting on an empty queue; one with events queued takes them
        # all, then finds the end.
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        self._wake_room()


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

    def publish_batch(self, events: list[TelemetryEvent]) -> None:
        """`publish` of several events in order, offered to each consumer at once (one wake-up)."""
        self.published += len(events)
        for sink in self._sinks:
            for event in events:
                sink(event)
        for consumer in self._consumers:
            consumer._offer_batch(events)

    async def publish_wait(self, event: TelemetryEvent) -> None:
        """Deliver to every sink and consumer, waiting for room in each queue (replays)."""
        self.published += 1
        for sink in self._sinks:
            sink(event)
        for consumer in tuple(self._consumers):
            await consumer._put(event)

    def close(self) -> None:
        """End every consumer's iteration (after the events already queued)."""
        self.closed = True
        for consumer in self._consumers:
            consumer._end()
        self._consumers.clear()
