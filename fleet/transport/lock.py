"""Per-board locks: one fleet process at a time drives a board, and the others say who does.

A lock is a file per board key (the port's real path, or a URL's host:port) in a runtime
directory: `$FLEET_LOCK_DIR`, else `$XDG_RUNTIME_DIR/fleet/locks`, else `/tmp/fleet-$UID/locks`.
The holder keeps the file open with an exclusive `flock`, which the kernel drops when the
process dies however it dies, so a crashed holder never leaves a stale lock behind: the
next opener's `flock` simply succeeds and it takes over. The file's JSON content (pid,
host, since, command line with passwords masked) only serves the message a refused opener shows:

    /dev/ttyACM0: busy (held by pid 4242 on lab-1 since 2026-11-25T12:00:03+00:00: fleet monitor)

Limits: the lock is seen by processes that share the lock directory, i.e. one host (and
one user, with the XDG default). Two hosts driving the same ser2net port cannot see each
other's locks; ser2net itself refuses a second TCP client of a busy accepter ("Port already
in use"), which `fleet.transport.serial` turns into `PortBusy` too (docs/scaling-out.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import re
import socket
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from fleet.errors import PortBusy
from fleet.redact import redact

LOCK_DIR_ENV = "FLEET_LOCK_DIR"
# The purpose of a lock taken for one discovery HELLO: held for a moment, so another
# opener waits it out instead of calling the board busy (fleet.transport.serial).
PROBE = "probe"


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a board lock, as written in the lock file."""

    pid: int
    host: str
    since: str  # ISO 8601, UTC
    command: str
    key: str
    purpose: str = ""  # PROBE for a discovery probe; "" for a process that drives the board

    def describe(self) -> str:
        return f"held by pid {self.pid} on {self.host} since {self.since}" + (f": {self.command}" if self.command else "")


def lock_dir() -> Path:
    """Where lock files live (see the module doc); not created here."""
    if explicit := os.environ.get(LOCK_DIR_ENV):
        return Path(explicit)
    if runtime := os.environ.get("XDG_RUNTIME_DIR"):
        return Path(runtime) / "fleet" / "locks"
    return Path(f"/tmp/fleet-{os.getuid()}/locks")


def lock_key(port: str) -> str:
    """The identity of a board's port: the real path of a device, host:port of a URL.

    `rfc2217://h:p?ign_set_control` and `socket://h:p` reach the same ser2net accepter, so
    the scheme and options are not part of the key.
    """
    if "://" in port:
        parts = urlsplit(port)
        return (parts.netloc or parts.path).lower()
    return os.path.realpath(port)


def lock_path(port: str, directory: Path | None = None) -> Path:
    """The lock file of `port`: a readable name plus a hash, so distinct keys never collide."""
    key = lock_key(port)
    readable = re.sub(r"[^A-Za-z0-9.-]+", "_", key).strip("_")[:60]
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return (directory or lock_dir()) / f"{readable}-{digest}.lock"


def read_holder(path: Path) -> Holder | None:
    """The holder recorded in a lock file, or None if it is absent or unreadable."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        # Redacted on reading too: a file written by an older fleet may hold a password.
        return Holder(int(raw["pid"]), str(raw["host"]), str(raw["since"]), redact(str(raw.get("command", ""))),
                      str(raw.get("key", "")), str(raw.get("purpose", "")))  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None


def holder_of(port: str) -> Holder | None:
    """Who holds `port` right now, without taking it: None if it is free (or its holder died)."""
    path = lock_path(port)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return read_holder(path)
            return None
        fcntl.flock(fd, fcntl.LOCK_UN)  # we could lock it: no live holder
        return None
    finally:
        os.close(fd)


class BoardLock:
    """An exclusive lock on one board's port; `acquire()`, then `release()` (or `with`)."""

    def __init__(self, port: str, directory: Path | None = None, purpose: str = "") -> None:
        self.port = port
        self.purpose = purpose
        self.key = lock_key(port)
        self.path = lock_path(port, directory)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> BoardLock:
        """Take the lock or raise `PortBusy` naming the holder. Never waits."""
        if self._fd is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # A holder that releases unlinks the file; if we locked the inode it unlinked, the
        # next opener would create a new file and lock that too. Re-check the path after
        # locking and start again if it no longer names our inode.
        for _ in range(20):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise PortBusy(f"{self.port}: cannot lock {self.path}: {exc.strerror}") from None
                raise self._busy() from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            self._fd = fd
            self._write_holder(fd)
            return self
        raise PortBusy(f"{self.port}: lock file {self.path} keeps changing; another process is racing for it")

    def _write_holder(self, fd: int) -> None:
        holder = Holder(
            pid=os.getpid(), host=socket.gethostname(),
            since=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            command=redact(" ".join(_command_line()))[:300], key=self.key,  # never a password (fleet.redact)
            purpose=self.purpose,
        )  # fmt: skip
        data = json.dumps(asdict(holder)).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)

    def _busy(self) -> PortBusy:
        holder = read_holder(self.path)
        if holder is None:  # the holder is between open and write: rare, still busy
            return PortBusy(f"{self.port}: busy (held by another fleet process)", hint="try again in a moment")
        return PortBusy(f"{self.port}: busy ({holder.describe()})", holder=holder,
                        hint=f"stop that process (pid {holder.pid} on {holder.host}) or use another board")  # fmt: skip

    def release(self) -> None:
        """Drop the lock and remove the file. Idempotent."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            # Unlink while still holding the lock, so no one locks a file we are deleting
            # without then seeing it is gone (see acquire).
            if os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                os.unlink(self.path)
        os.close(fd)

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:
        # A transport dropped without close(): the fd would close with the object anyway;
        # releasing here also removes the file.
        with contextlib.suppress(Exception):
            self.release()


def _command_line() -> list[str]:
    """What the holder runs: `fleet monitor ...` rather than `/path/python -m fleet monitor ...`."""
    argv = list(sys.argv)
    if argv and argv[0].endswith(("__main__.py", "/fleet")):
        argv[0] = "fleet"
    return [os.path.basename(argv[0]) if argv else "?", *argv[1:]]
