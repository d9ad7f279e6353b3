"""One reader for all the local ports of an event loop, so a busy fleet shares its wake-ups.

asyncio runs one callback per ready file descriptor per loop turn. Boards that each send a
frame every few milliseconds then cost a loop turn, a reader callback and a wake-up of
every consumer per frame: at 32 boards that was half the manager's CPU, more than decoding
and converting the frames. `PortPoller` keeps every port's descriptor in a selector of its
own, and the loop watches only that selector. When it becomes ready:

- if the last pass over the ports was at least `interval_s` ago, every ready port is read
  now (an idle link is not delayed: a PING's answer is read as soon as it arrives);
- otherwise every ready port is read in one pass `interval_s` after the last one.

After a pass that read something the next one is simply timed `interval_s` later (ports
that keep sending do not wake the loop themselves); a pass that finds nothing hands back
to the loop's watch. So a busy fleet is read at most 1/`interval_s` times a second, each
pass taking whatever all boards sent in the meantime, the events of one pass reach
consumers in one wake-up, and the cost is at most `interval_s` of added latency while the
ports are busy.
"""

from __future__ import annotations

import asyncio
import math
import selectors
import weakref
from collections.abc import Callable

# Five milliseconds: a quarter of issue 16's latency budget (p99 <= 20 ms device -> consumer),
# and at most 200 passes a second however many boards stream. Each pass's reads then carry
# more frames (a board streaming 300 events/s: 1.5 a read instead of 0.6), and the cost of a
# read is about a quarter of an event's (bench_instructions.py --batch 1 against --batch 4).
DEFAULT_INTERVAL_S = 0.005

_POLLERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PortPoller] = weakref.WeakKeyDictionary()


class PortPoller:
    """Reads a loop's ports in shared passes; see the module doc. Use `poller_for(loop)`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self.passes = 0  # passes over the ready ports so far
        self._loop = loop
        self._selector = selectors.DefaultSelector()
        self._last = -math.inf  # loop time of the last pass
        self._watching = False
        self._timer: asyncio.TimerHandle | None = None

    def add(self, fd: int, on_readable: Callable[[], None]) -> None:
        """Call `on_readable()` in a pass whenever `fd` has bytes (or has ended)."""
        self._selector.register(fd, selectors.EVENT_READ, on_readable)
        if not self._watching and self._timer is None:
            self._watch()

    def remove(self, fd: int) -> None:
        """Stop reading `fd` (idempotent). A pass already under way may still call its
        callback, which must then do nothing (SerialTransport checks that it still reads)."""
        try:
            self._selector.unregister(fd)
        except (KeyError, ValueError):
            return
        if not self._selector.get_map():
            self._close()

    def _watch(self) -> None:
        self._loop.add_reader(self._selector.fileno(), self._on_ready)
        self._watching = True

    def _unwatch(self) -> None:
        if self._watching:
            self._loop.remove_reader(self._selector.fileno())
            self._watching = False

    def _on_ready(self) -> None:
        self._unwatch()  # the selector stays ready (level-triggered) until a pass reads it
        now = self._loop.time()
        due = self._last + self.interval_s
        if now >= due:
            self._on_timer()
        else:
            self._timer = self._loop.call_at(due, self._on_timer)

    def _on_timer(self) -> None:
        # While ports keep sending, passes follow each other on the timer alone; a pass that
        # finds nothing hands back to the loop's watch, which wakes us at the next byte.
        self._timer = None
        found = self._pass(self._loop.time())  # a port's failure is the loop's to report, not ours
        if not self._selector.get_map():
            return  # the last port went during the pass: this poller is closed
        if found:
            self._timer = self._loop.call_at(self._last + self.interval_s, self._on_timer)
        else:
            self._watch()

    def _pass(self, now: float) -> bool:
        """Read every ready port; whether any was."""
        self._last = now
        self.passes += 1
        ready = self._selector.select(0)
        for key, _events in ready:
            try:
                key.data()
            except Exception as exc:  # noqa: BLE001 - one port's failure must not stop the others' reads
                self._loop.call_exception_handler({"message": "port reader failed", "exception": exc})
        return bool(ready)

    def _close(self) -> None:
        self._unwatch()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._selector.close()
        if _POLLERS.get(self._loop) is self:
            del _POLLERS[self._loop]


def poller_for(loop: asyncio.AbstractEventLoop) -> PortPoller:
    """The loop's poller (made on first use; it goes once its last port is removed)."""
    poller = _POLLERS.get(loop)
    if poller is None:
        poller = _POLLERS[loop] = PortPoller(loop)
    return poller
