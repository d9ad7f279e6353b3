"""A meter's stream read in batches: fewer, larger pieces of work per second.

A serial port hands over at most a few kilobytes per read (the tty layer's 4 KiB
buffer), so a PPK2's 400 kB/s arrives as about a hundred reads a second, and decoding,
integrating and decimating each read on its own costs more in per-call overhead than in
work. `StreamBatches` gathers the reads of a transport that offers `feed_to` (the serial
one does: docs/telemetry.md, "The hot path") in its reader callback, without a task
wake-up per read, and `take()` returns them joined once `min_bytes` are in, or whatever
has come `max_wait_s` after it was called, with the host time the last byte arrived (what
the meter's clock mapping needs: no sample arrives before it was taken). A transport
without `feed_to` is read one `read()` at a time.
"""

from __future__ import annotations

import asyncio
import time

from fleet.cancel import cancel_and_wait
from fleet.transport.base import Transport

# A meter's samples are decoded and reduced this much at a time (a third of the CPU of one
# tty read at a time, for a PPK2); energy and power events wait that long.
BATCH_S = 0.05
BATCH_MAX_WAIT_S = 0.1


class StreamBatches:
    """Bytes of `transport` in batches; see the module doc. `close()` when done."""

    @classmethod
    def timed(cls, transport: Transport, bytes_per_s: float) -> StreamBatches:
        """Batches of BATCH_S of a stream that flows at `bytes_per_s`, or what came within BATCH_MAX_WAIT_S."""
        return cls(transport, max(1, round(BATCH_S * bytes_per_s)), BATCH_MAX_WAIT_S)

    def __init__(self, transport: Transport, min_bytes: int, max_wait_s: float) -> None:
        self.transport = transport
        self.min_bytes = min_bytes
        self.max_wait_s = max_wait_s
        self._parts: list[bytes] = []
        self._size = 0
        self._arrival = 0.0  # host wall clock of the latest bytes
        self._enough: asyncio.Future[None] | None = None
        self._end: asyncio.Task[bytes] | None = None
        feed_to = getattr(transport, "feed_to", None)
        if feed_to is not None:
            feed_to(self._receive)
            self._watch_end()

    def _watch_end(self) -> None:
        # With a receiver, read() only raises: why the stream ended, for take() to raise.
        self._end = asyncio.get_running_loop().create_task(self.transport.read(), name=f"end of {self.transport.name}")

    def _receive(self, data: bytes) -> None:
        self._parts.append(data)
        self._size += len(data)
        self._arrival = time.time()
        if self._size >= self.min_bytes and self._enough is not None and not self._enough.done():
            self._enough.set_result(None)

    async def take(self) -> tuple[bytes, float]:
        """(at least one byte, the host time.time() its last byte arrived); raises what the
        transport raises when the stream ends (PortVanished, ...)."""
        if self._end is None:
            data = await self.transport.read()
            return data, time.time()
        waited = False
        while self._size < self.min_bytes and not (waited and self._size):
            self._enough = asyncio.get_running_loop().create_future()
            await asyncio.wait((self._enough, self._end), timeout=self.max_wait_s,
                               return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
            self._enough = None
            waited = True
            if self._end.done():
                late = self._end.result()  # raises why it ended
                self._receive(late)  # bytes read() held from before feed_to (none on a serial port)
                self._watch_end()
        data = self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
        self._parts.clear()
        self._size = 0
        return data, self._arrival

    async def close(self) -> None:
        """Stop waiting for the stream's end (the transport is the caller's to close)."""
        if self._end is not None and not self._end.done():
            await cancel_and_wait(self._end)
