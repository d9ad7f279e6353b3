"""A virtual board's serial port: the master side of a pseudo-terminal in raw mode.

The host opens the slave path (`/dev/pts/N`) like any `/dev/ttyACM*`, with pyserial or
anything else. The board holds only the master fd, non-blocking, driven by the event
loop's reader/writer callbacks. On Linux, reading the master fails with EIO while no
process has the slave open (before the host opens it, and after it closes it); the
board then polls for the host to come back instead of spinning on a hung-up fd. Bytes
written while no host is attached are discarded by the kernel, as a USB CDC board's
output is when no one has the port open; but what a host left unread when it closed
the port (up to the tty's 4,095-byte buffer, cut anywhere) is what the next host reads
first. Closing the master makes the slave path vanish: to the host, the board was
unplugged.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import tty

from fleet.errors import PortVanished

# How often to look for a host while none has the port open (EIO on the master).
HOST_POLL_S = 0.05
_READ_SIZE = 65536


class PtyTransport:
    """Board end of a new pseudo-terminal; `name` is the slave path the host opens."""

    def __init__(self) -> None:
        master, slave = os.openpty()
        try:
            tty.setraw(slave)
            self.name = os.ttyname(slave)
        finally:
            # The board keeps no slave fd, so the host's open/close is what the master sees.
            os.close(slave)
        os.set_blocking(master, False)
        fcntl.fcntl(master, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
        self._fd = master
        self._closed = False
        self._waiters: set[asyncio.Future[None]] = set()  # a read and a write may both wait
        # One write at a time, whole: a PTY takes a write in pieces while the host is not
        # reading, and a second writer's bytes would land between them (a meter's answer
        # inside a sample), or wait on the fd in its place and never wake the first.
        self._writing = asyncio.Lock()
        self.host_attached = False

    async def read(self) -> bytes:
        while True:
            self._check_open()
            try:
                data = os.read(self._fd, _READ_SIZE)
            except BlockingIOError:
                await self._wait(readable=True)
                continue
            except OSError as exc:
                if exc.errno != errno.EIO or self._closed:
                    raise PortVanished(f"{self.name}: {exc.strerror}") from None
                data = b""
            if not data:  # EIO/EOF: no host has the port open; wait for one
                self.host_attached = False
                await asyncio.sleep(HOST_POLL_S)
                continue
            self.host_attached = True
            return data

    async def write(self, data: bytes) -> None:
        """All of data, after the writes begun before it (see `_writing`)."""
        async with self._writing:
            await self._write(data)

    async def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            self._check_open()
            try:
                written = os.write(self._fd, view)
            except BlockingIOError:  # the host is not reading: wait, as a board blocked on its UART
                await self._wait(readable=False)
                continue
            except OSError as exc:
                if exc.errno == errno.EIO:  # no host attached: the bytes go nowhere
                    return
                raise PortVanished(f"{self.name}: {exc.strerror}") from None
            view = view[written:]

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(PortVanished(f"{self.name}: closed"))
        loop = asyncio.get_running_loop()
        loop.remove_reader(self._fd)
        loop.remove_writer(self._fd)
        os.close(self._fd)

    def _check_open(self) -> None:
        if self._closed:
            raise PortVanished(f"{self.name}: closed")

    async def _wait(self, *, readable: bool) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.add(waiter)
        add, remove = (loop.add_reader, loop.remove_reader) if readable else (loop.add_writer, loop.remove_writer)

        def ready() -> None:
            if not waiter.done():
                waiter.set_result(None)

        add(self._fd, ready)
        try:
            await waiter
        finally:
            self._waiters.discard(waiter)
            if not self._closed:
                remove(self._fd)
