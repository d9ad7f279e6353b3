"""Standard output written by a thread of its own, so a command's event loop never waits on
whoever reads it.

`fleet monitor --json | consumer`: when the consumer stops reading, the pipe fills and a
write blocks. Written from the event loop, that write blocked the loop itself, so neither
Ctrl-C nor SIGTERM (both handled on the loop) could stop the monitor, and its recording was
never finished. Here the loop only queues text; a daemon thread writes it to the file
descriptor with `os.write` (not through `sys.stdout`'s buffer, whose lock a blocked writer
would hold at interpreter exit). The loop waits for room only while more than
`max_pending` bytes are queued, which is how a slow reader slows a replay down (`--fast`)
or makes the monitor's bounded consumer queue drop events (counted, as a slow view's are).

At the end, `close()` lets the thread write out what is queued for as long as the reader
keeps taking it; a reader that takes nothing for `STALL_S` is given up on, and the text it
never read is reported in `unwritten` bytes rather than waited for forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import queue
import threading
from typing import TextIO

STALL_S = 5.0  # at the end: how long a reader may take nothing before its output is given up
MAX_PENDING = 1 << 20  # bytes queued before `write` waits for the thread


class OutputThread:
    """Writes text to `stream` (standard output) from a thread; see the module doc.

    A stream without a file descriptor (a StringIO in tests) is written to directly."""

    def __init__(self, stream: TextIO, *, max_pending: int = MAX_PENDING, stall_s: float = STALL_S) -> None:
        self._stream = stream
        self._loop = asyncio.get_running_loop()
        self._max_pending = max_pending
        self._stall_s = stall_s
        self._pending = 0  # bytes queued and not yet written
        self._progress = asyncio.Event()  # set whenever the thread has written something
        self.error: OSError | None = None  # what the last write raised (a closed pipe: `| head`)
        self.unwritten = 0  # bytes given up on at close: the reader stopped reading
        self._queue: queue.SimpleQueue[bytes | None] | None = None
        try:
            self._fd = stream.fileno()
        except (AttributeError, io.UnsupportedOperation, ValueError):
            return  # no descriptor: nothing can block on a reader
        stream.flush()  # what was printed before goes first
        self._queue = queue.SimpleQueue()
        threading.Thread(target=self._run, name="fleet-output", daemon=True).start()

    def put(self, text: str) -> None:
        """Queue `text` without waiting (small, occasional output: a table redraw)."""
        if self.error is not None:
            raise self.error
        if self._queue is None:
            self._stream.write(text)
            self._stream.flush()
            return
        data = text.encode(self._stream.encoding or "utf-8", "replace")
        self._pending += len(data)
        self._queue.put(data)

    async def write(self, text: str) -> None:
        """Queue `text`, first waiting while more than `max_pending` bytes are queued."""
        while self._pending > self._max_pending and self.error is None:
            self._progress.clear()
            await self._progress.wait()
        self.put(text)

    async def close(self) -> None:
        """Write out what is queued while the reader takes it (see the module doc), then stop
        the thread. Raises what a write raised; `unwritten` counts what was given up on."""
        if self._queue is not None:
            while self._pending and self.error is None:
                self._progress.clear()
                try:
                    async with asyncio.timeout(self._stall_s):
                        await self._progress.wait()
                except TimeoutError:
                    self.unwritten = self._pending  # the thread stays blocked in its write; it is a daemon
                    break
            self._queue.put(None)
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        assert self._queue is not None
        while (data := self._queue.get()) is not None:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view) :]
            except OSError as exc:
                self._report(len(data), exc)
                return
            self._report(len(data), None)

    def _report(self, written: int, error: OSError | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            self._loop.call_soon_threadsafe(self._done, written, error)

    def _done(self, written: int, error: OSError | None) -> None:
        self._pending -= written
        if error is not None:
            self.error = error
        self._progress.set()
