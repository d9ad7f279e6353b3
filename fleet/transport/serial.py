"""pyserial-backed transports: local ports (/dev/ttyACM0, a PTY) and URLs (rfc2217://, socket://).

Local ports are driven from the event loop through their file descriptor (no thread per
board), all of a loop's ports read in shared passes (`fleet.transport.poller`); URL ports,
whose pyserial handlers keep their own sockets and threads, are read by one small thread
each. Either way the layers above see the same `Transport`.

`SerialTransport.open` takes the board's lock (`fleet.transport.lock`) before it opens
the port, so a board driven by another fleet process is refused with `PortBusy` naming
that process, and is never opened (opening can reset a board). A ser2net accepter that
already has a client refuses the connection with "Port already in use": RFC2217 fails at
open, a plain TCP accepter (socket://) accepts, says so and closes; either way that
becomes `PortBusy` as well. A lock held by a discovery probe (one HELLO, well under a
second) is waited out rather than reported: two fleet commands started together would
otherwise each find the other's probe and call the board busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import serial

from fleet.errors import PortBusy, PortNotFound, PortVanished
from fleet.printable import printable
from fleet.transport.lock import PROBE, BoardLock
from fleet.transport.poller import PortPoller, poller_for

_READ_SIZE = 16384  # a tty read returns at most its line discipline's 4 kB buffer; a larger one only costs its allocation
_URL_POLL_S = 0.05  # how often a URL port's reader thread looks at `closed`
# How long we listen for ser2net's text after a refused open: it writes its reason at once.
_REFUSAL_READ_S = 1.0
# A probe holds a board for one HELLO (and its retry); a busy machine may stretch that.
PROBE_PATIENCE_S = 5.0
_TELNET_CMD = re.compile(rb"\xff[\xfb-\xfe].|\xff\xfa.*?\xff\xf0|\xff.", re.DOTALL)
# The first bytes of a URL connection, kept to recognise a server's refusal when it closes.
_GREETING_BYTES = 256
# A URL connection that ends this soon after opening, having said nothing, may have been
# refused: a write racing the server's close makes TCP reset and drop its text. Ask again.
_REFUSAL_WINDOW_S = 2.0


def _is_url(port: str) -> bool:
    return "://" in port


def open_serial(port: str, baud: int) -> serial.SerialBase:
    """Open a port or URL with pyserial without toggling DTR/RTS where the platform allows.

    Asserting DTR resets many boards (Arduino's auto-reset), so we ask pyserial not to
    drive either line; the OS may still assert DTR when the device file is opened.
    """
    try:
        # rfc2217:// refuses any write_timeout but None (NotImplementedError at open).
        # A URL port's reader thread polls with a short timeout, given here: changing it after
        # open costs rfc2217 a settings round trip with the server.
        s = serial.serial_for_url(port, do_not_open=True, baudrate=baud, timeout=_URL_POLL_S if _is_url(port) else 0,
                                  write_timeout=None if _is_url(port) else 0)
        s.dtr = False
        s.rts = False
        if not _is_url(port):
            s.exclusive = True  # flock: a second fleet process gets PortBusy instead of sharing
        s.open()
    except (serial.SerialException, OSError, ValueError, NotImplementedError) as exc:
        text = str(exc) or type(exc).__name__
        if _is_url(port):
            # pyserial reports a refused telnet negotiation as a broken pipe or a timeout;
            # ask the server what it meant before calling the port missing.
            refusal = remote_refusal(port)
            if refusal is not None:
                raise _busy(port, refusal) from None
        elif isinstance(exc, serial.SerialException) and ("lock" in text.lower() or "busy" in text.lower()):
            raise PortBusy(f"{port}: in use by another process ({text})", hint="close the other program") from None
        raise PortNotFound(f"{port}: cannot open: {text}") from None
    return s


def remote_refusal(url: str, timeout: float = _REFUSAL_READ_S) -> str | None:
    """The text a ser2net accepter sends when it refuses us ("Port already in use"), if any.

    ser2net answers a second client of a busy port with its telnet options, one line of
    text, and a close. None when the server is unreachable or says nothing of the kind.
    """
    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        return None
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
            data = b""
            deadline = time.monotonic() + timeout
            while len(data) < 4096 and (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    return refusal_text(data)


def refusal_text(data: bytes) -> str | None:
    """ser2net's refusal ("Port already in use") in the first bytes of a connection, if it is one."""
    text = _TELNET_CMD.sub(b"", data).decode("utf-8", "replace").strip()
    return printable(text) if "in use" in text.lower() else None  # a remote server's words: shown, never interpreted


def _busy(port: str, refusal: str) -> PortBusy:
    return PortBusy(f"{port}: busy (the server says: {refusal})",
                    hint="another client (maybe another host) is connected to this ser2net port")  # fmt: skip


class SerialTransport:
    """A Transport over a pyserial port opened with `open_serial`; use `await SerialTransport.open()`."""

    def __init__(
        self, port: str, ser: serial.SerialBase, loop: asyncio.AbstractEventLoop, lock: BoardLock | None = None
    ) -> None:
        self.name = port
        self.serial = ser
        self.baud: int | None = ser.baudrate
        self.lock = lock  # released at close()
        self._loop = loop
        self._inbox: asyncio.Queue[bytes | Exception] = asyncio.Queue()
        self._receiver: Callable[[bytes], None] | None = None
        self._closed = False
        self._fd: int | None = None
        self._poller: PortPoller | None = None  # reads the fd while we read it
        self._thread: threading.Thread | None = None
        fd = getattr(ser, "fd", None)
        if isinstance(fd, int) and not _is_url(port):
            self._fd = fd
            os.set_blocking(fd, False)
            self._poller = poller_for(loop)
            self._poller.add(fd, self._on_readable)
        else:
            if ser.timeout != _URL_POLL_S:
                ser.timeout = _URL_POLL_S
            self._thread = threading.Thread(target=self._read_thread, name=f"fleet-read {port}", daemon=True)
            self._thread.start()

    @classmethod
    async def open(cls, port: str, baud: int = 115200, *, lock: bool = True, purpose: str = "") -> SerialTransport:
        """Lock the board (unless `lock=False`), then open its port; PortBusy names a live holder.

        `purpose` is recorded in the lock (`fleet.transport.lock.PROBE` for a discovery probe).
        """
        loop = asyncio.get_running_loop()
        board_lock = await _take_lock(port, purpose) if lock else None
        try:
            ser = await loop.run_in_executor(None, open_serial, port, baud)
        except BaseException:
            if board_lock is not None:
                board_lock.release()
            raise
        return cls(port, ser, loop, board_lock)

    # --- reading ---------------------------------------------------------------------

    def _on_readable(self) -> None:
        if self._poller is None or self._fd is None:
            return  # reading ended during the pass that called us
        try:
            data = os.read(self._fd, _READ_SIZE)
        except BlockingIOError:
            return
        except OSError as exc:
            self._vanish(f"{self.name}: port went away ({exc.strerror or exc})")
            return
        if not data:
            self._vanish(f"{self.name}: port went away (end of file)")
            return
        self._deliver(data)

    def _deliver(self, data: bytes) -> None:
        receiver = self._receiver
        if receiver is None:
            self._inbox.put_nowait(data)
            return
        try:
            receiver(data)
        except Exception as exc:  # noqa: BLE001 - the reader's failure, raised to it by read()
            self._end(exc)

    def feed_to(self, receiver: Callable[[bytes], None]) -> None:
        """Hand every received chunk to `receiver` as it arrives (in the poller's pass over
        the ready ports) instead of queueing it for `read()`: no task wake-up per chunk. `read()`
        then only raises: why the port ended, or what `receiver` raised (reading stops)."""
        early = []
        while not self._inbox.empty():
            early.append(self._inbox.get_nowait())
        for item in early:  # what arrived before, first; an end stays for read() to raise
            if isinstance(item, Exception):
                self._inbox.put_nowait(item)
                return
            receiver(item)
        self._receiver = receiver

    def _read_thread(self) -> None:
        greeting = b""
        opened = time.monotonic()
        while not self._closed:
            try:
                data = self.serial.read(self.serial.in_waiting or 1)
            except Exception as exc:  # noqa: BLE001 - any failure of a URL handler means the link is gone
                if self._closed:
                    return  # we closed it: nothing to report, and no reason to ask the server
                refusal = refusal_text(greeting)
                if refusal is None and not greeting and time.monotonic() - opened < _REFUSAL_WINDOW_S:
                    refusal = remote_refusal(self.name)
                why = _busy(self.name, refusal) if refusal else PortVanished(f"{self.name}: connection lost ({exc})")
                self._loop.call_soon_threadsafe(self._end, why)
                return
            if data:
                if len(greeting) < _GREETING_BYTES:
                    greeting += data[: _GREETING_BYTES - len(greeting)]
                self._loop.call_soon_threadsafe(self._deliver, data)

    def _vanish(self, why: str) -> None:
        self._end(PortVanished(why))

    def awaiting_answer(self, on: bool) -> None:
        """While `on`, an answer is awaited: read the port the moment it has bytes rather
        than in the poller's next pass (fleet.transport.poller, `prompt`)."""
        if self._poller is not None and self._fd is not None:
            self._poller.prompt(self._fd, on)

    def _stop_reading(self) -> None:
        if self._poller is not None and self._fd is not None:
            self._poller.remove(self._fd)
        self._poller = None

    def _end(self, why: Exception) -> None:
        self._stop_reading()
        self._receiver = None  # nothing more is delivered after an end
        self._inbox.put_nowait(why)

    async def read(self) -> bytes:
        if self._closed:
            raise PortVanished(f"{self.name}: closed")
        item = await self._inbox.get()
        if isinstance(item, Exception):
            self._inbox.put_nowait(item)  # every later read fails the same way
            raise item
        if self._inbox.empty():
            return item
        parts = [item]
        while not self._inbox.empty():
            nxt = self._inbox.get_nowait()
            if isinstance(nxt, Exception):
                self._inbox.put_nowait(nxt)
                break
            parts.append(nxt)
        return b"".join(parts)

    # --- writing ---------------------------------------------------------------------

    async def write(self, data: bytes) -> None:
        if self._closed:
            raise PortVanished(f"{self.name}: closed")
        if self._fd is None:
            await self._loop.run_in_executor(None, self._write_blocking, data)
            return
        view = memoryview(data)
        while view:
            try:
                n = os.write(self._fd, view)
            except BlockingIOError:
                await self._writable()
                continue
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                raise PortVanished(f"{self.name}: write failed ({exc.strerror or exc})") from None
            view = view[n:]

    def _write_blocking(self, data: bytes) -> None:
        # URL ports are opened with write_timeout=None (blocking writes). Setting any port
        # setting here would be costly: rfc2217 renegotiates every setting with the server
        # and waits for its answers, a round trip per write (it capped deploys at ~6.6 kB/s).
        try:
            self.serial.write(data)
        except Exception as exc:  # noqa: BLE001 - a URL handler's failure means the link is gone
            raise PortVanished(f"{self.name}: write failed ({exc})") from None

    async def _writable(self) -> None:
        assert self._fd is not None
        fut: asyncio.Future[Any] = self._loop.create_future()
        self._loop.add_writer(self._fd, lambda: fut.done() or fut.set_result(None))
        try:
            await fut
        finally:
            self._loop.remove_writer(self._fd)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop_reading()
        self._inbox.put_nowait(PortVanished(f"{self.name}: closed"))
        ser = self.serial
        try:
            # Closing a URL whose server died may fail; the port is gone either way.
            with contextlib.suppress(Exception):
                await self._loop.run_in_executor(None, ser.close)
                if self._thread is not None:
                    await self._loop.run_in_executor(None, self._thread.join, 1.0)
        finally:
            if self.lock is not None:
                self.lock.release()  # only after the port is closed, so no one opens it under us


async def _take_lock(port: str, purpose: str) -> BoardLock:
    """The board's lock; a probe's (or a holder still writing its name) is waited out."""
    deadline = time.monotonic() + PROBE_PATIENCE_S
    while True:
        try:
            return BoardLock(port, purpose=purpose).acquire()
        except PortBusy as exc:
            holder = exc.holder
            passing = holder is None or getattr(holder, "purpose", "") == PROBE
            if not passing or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.05)


async def open_transport(port: str, baud: int = 115200, *, purpose: str = "") -> SerialTransport:
    """Open a local port path or a pyserial URL as a Transport (`purpose`: see `SerialTransport.open`)."""
    return await SerialTransport.open(port, baud, purpose=purpose)
