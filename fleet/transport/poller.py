"""One reader for all the local ports of an event loop, so a busy fleet shares its wake-ups.

asyncio runs one callback per ready file descriptor per loop turn. Boards that each send a
frame every few milliseconds then cost a loop turn, a reader callback and a wake-up of
every consumer per frame: at 32 boards that was half the manager's CPU, more than decoding
and converting the frames. `PortPoller` keeps every port's descriptor in a selector of its
own, and the loop watches only that selector. When it becomes ready:

- if the last pass over the ports was at least `interval_s` ago, every ready port is read
  now (an idle link is not delayed);
- otherwise every ready port is read in one pass `interval_s` after the last one.

After a pass that read something the next one is simply timed `interval_s` later (ports
that keep sending do not wake the loop themselves); a pass that finds nothing hands back
to the loop's watch. So the events of one pass reach consumers in one wake-up, and the
cost is at most `interval_s` of added latency while the ports are busy.

`interval_s` follows the ports the last pass read: `PER_PORT_S` each, from `MIN_INTERVAL_S`
to `MAX_INTERVAL_S`. A read costs about a quarter of an event whatever it carries, so a
busy fleet is read in fewer, fuller reads (about 1/`PER_PORT_S` reads a second however
many boards stream), while one or two busy boards keep the 2 ms latency.

A port on which an answer is awaited (`prompt`) is also read the moment it has bytes, so a
request's round trip (a PING's clock estimate, an upload's acknowledgements) never waits
for the next pass.
"""

from __future__ import annotations

import asyncio
import math
import selectors
import weakref
from collections.abc import Callable

# 2 ms: a tenth of issue 16's latency budget (p99 <= 20 ms device -> consumer); 10 ms: half
# of it, reached at 32 busy ports; 0.3 ms a port: about 3,300 reads a second at most.
MIN_INTERVAL_S = 0.002
MAX_INTERVAL_S = 0.010
PER_PORT_S = 0.0003

_POLLERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PortPoller] = weakref.WeakKeyDictionary()


class PortPoller:
    """Reads a loop's ports in shared passes; see the module doc. Use `poller_for(loop)`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval_s: float | None = None) -> None:
        """`interval_s`: a fixed pause between busy passes instead of one sized by the ports read."""
        self.fixed_interval_s = interval_s
        self.interval_s = MIN_INTERVAL_S if interval_s is None else interval_s  # the pause after the last pass
        self._prompt: dict[int, Callable[[], None]] = {}  # ports the loop reads itself (see prompt)
        self._closed = False
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
        if self._prompt.pop(fd, None) is not None:
            self._loop.remove_reader(fd)
        else:
            try:
                self._selector.unregister(fd)
            except (KeyError, ValueError):
                return
        if not self._selector.get_map() and not self._prompt:
            self._close()

    def prompt(self, fd: int, on: bool) -> None:
        """While `on`, read `fd` as soon as it has bytes instead of in the passes: an answer
        is awaited on it (see the module doc). The port moves from this poller's selector to
        the loop's and back, so one readiness is never read twice (a tty read then returns
        no bytes, which means the end of the port)."""
        if on and fd not in self._prompt:
            key = self._selector.get_map().get(fd)
            if key is not None:
                self._selector.unregister(fd)
                self._prompt[fd] = key.data
                self._loop.add_reader(fd, key.data)
        elif not on and fd in self._prompt:
            self._loop.remove_reader(fd)
            self.add(fd, self._prompt.pop(fd))

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
        if self._closed:
            return  # the last port went during the pass
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
        if self.fixed_interval_s is None:
            self.interval_s = min(MAX_INTERVAL_S, max(MIN_INTERVAL_S, len(ready) * PER_PORT_S))
        return bool(ready)

    def _close(self) -> None:
        self._closed = True
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
