"""Session recordings: every telemetry event, with device and host time, in gzip'd JSON lines.

    line 1:  header  {"format": "fleet-telemetry", "version": 1, "fleet_version": ..., "started": ..., "boards": [...]}
    then:    one event per line, exactly as `fleet monitor --json` prints it
    last:    trailer {"end": true, "events": N, "dropped": D, "stopped": ...}

The writer buffers lines in memory and compresses them off the event loop at least every
`flush_interval_s`, ending each batch with a zlib SYNC_FLUSH: everything written so far
is decodable from the file, so a crash loses at most the last interval. Closing writes
the trailer, ends the gzip stream and fsyncs. A reader can therefore tell a complete
recording from one whose writer was killed (no end-of-stream, no trailer) and from one cut
mid-line, and says so (`RecordingTruncated`) after yielding every complete event; damaged
compressed data is reported the same way (`RecordingDamaged`, with its byte offset).
An existing file is never overwritten unless asked (`force`).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from fleet import __version__
from fleet.cancel import cancel_and_wait
from fleet.errors import RecordingCorrupt, RecordingDamaged, RecordingError, RecordingExists, RecordingTruncated
from fleet.telemetry.events import StateEvent, TelemetryEvent, parse_event

FORMAT = "fleet-telemetry"
FORMAT_VERSION = 1
DEFAULT_FLUSH_S = 1.0
# Lines waiting for the disk beyond this are dropped, counted, and reported in the trailer:
# a stalled disk must not eat the host's memory.
MAX_BUFFER_BYTES = 64 * 1024 * 1024
_READ_CHUNK = 256 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
# A live recorder must not take CPU from ingest: at 32 boards x 200 results/s (bench_telemetry
# --record) level 1 kept device -> consumer p99 at 22-30 ms with 2.9 MB per 10 s; level 6,
# 1.9 MB but p99 62 ms; gzip's default 9 costs 3x level 6 again.
COMPRESS_LEVEL = 1


class RecordingHeader(BaseModel):
    """First line of a recording: what it is and the boards known when it started."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["fleet-telemetry"] = FORMAT
    version: int = FORMAT_VERSION
    fleet_version: str = __version__
    started: float
    boards: list[StateEvent] = []


class RecordingEnd(BaseModel):
    """Last line of a complete recording."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    end: Literal[True] = True
    events: int
    dropped: int = 0
    stopped: float


class RecordingWriter:
    """Writes a recording; `write(event)` is cheap and never blocks (see the module doc).

    Create with `await RecordingWriter.create(path, boards)`; `await close()` when done.
    A disk error stops the recording: `error` says why and `close()` raises it.
    """

    def __init__(self, path: Path, file, gz: gzip.GzipFile, flush_interval_s: float) -> None:  # noqa: ANN001
        self.path = path
        self.events = 0
        self.dropped = 0
        self.error: RecordingError | None = None
        self._file = file
        self._gz = gz
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._lock = asyncio.Lock()
        self._closed = False
        self._closing: asyncio.Task[None] | None = None
        self._flush_interval_s = flush_interval_s
        self._flusher = asyncio.get_running_loop().create_task(self._flush_loop(), name=f"record {path}")

    @classmethod
    async def create(
        cls, path: str | os.PathLike[str], boards: list[StateEvent] | None = None, *, force: bool = False,
        flush_interval_s: float = DEFAULT_FLUSH_S,
    ) -> RecordingWriter:  # fmt: skip
        """Open `path` (refusing an existing file unless `force`) and write the header."""
        path = Path(path)
        header = RecordingHeader(started=time.time(), boards=boards or [])
        try:
            # Exclusive create ("xb"): the check and the creation are one step, no race.
            file = await asyncio.to_thread(open, path, "wb" if force else "xb")
        except FileExistsError:
            raise RecordingExists(f"{path}: exists already; not overwriting a recording",
                                  hint="choose another file name, or pass --force to overwrite it") from None  # fmt: skip
        except OSError as exc:
            raise RecordingError(f"{path}: cannot create the recording: {exc.strerror or exc}") from None
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=file, mtime=0, compresslevel=COMPRESS_LEVEL)
        writer = cls(path, file, gz, flush_interval_s)
        writer._buffer.append(header.model_dump_json().encode() + b"\n")
        await writer.flush()
        return writer

    def write(self, event: TelemetryEvent) -> None:
        """Queue one event for the file (a hub sink: called in line, never blocks)."""
        if self._closed or self.error is not None:
            self.dropped += 1
            return
        if self._buffered > MAX_BUFFER_BYTES:
            self.dropped += 1
            return
        line = event.model_dump_json().encode() + b"\n"
        self._buffer.append(line)
        self._buffered += len(line)
        self.events += 1

    async def flush(self) -> None:
        """Compress and write what is buffered, ending with a SYNC_FLUSH."""
        async with self._lock:
            if not self._buffer or self.error is not None or self._gz.closed:
                return
            data = b"".join(self._buffer)
            self._buffer.clear()
            self._buffered = 0
            writing = asyncio.ensure_future(asyncio.to_thread(self._write_sync, data))
            try:
                await asyncio.shield(writing)
            except asyncio.CancelledError:
                # Close stops the flusher, but the thread writes on: hold the lock until it is
                # done, or the trailer would go into the gzip stream at the same time.
                await asyncio.wait({writing})
                raise
            except OSError:
                pass  # told below
            finally:
                if writing.done() and isinstance(exc := writing.exception(), OSError):
                    self.error = RecordingError(f"{self.path}: writing the recording failed: {exc.strerror or exc}")

    def _write_sync(self, data: bytes) -> None:
        self._gz.write(data)
        self._gz.flush(zlib.Z_SYNC_FLUSH)  # also flushes the file object to the OS

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self._flush_interval_s)
            await self.flush()

    async def close(self) -> None:
        """Write the trailer, end the gzip stream, fsync and close. Raises the first disk error.

        A close that is cancelled itself (Ctrl-C while stopping) ends cancelled at once, and
        the file is finished all the same; closing again waits for that and raises its error.
        """
        self._closed = True
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(self._finish(), name=f"close {self.path}")
        await asyncio.shield(self._closing)

    async def _finish(self) -> None:
        await cancel_and_wait(self._flusher)
        end = RecordingEnd(events=self.events, dropped=self.dropped, stopped=time.time())
        self._buffer.append(end.model_dump_json().encode() + b"\n")
        await self.flush()
        async with self._lock:
            try:
                await asyncio.to_thread(self._close_sync)
            except OSError as exc:
                self.error = self.error or RecordingError(f"{self.path}: closing the recording failed: {exc}")
        if self.error is not None:
            raise self.error

    def _close_sync(self) -> None:
        try:
            if not self._gz.closed:
                self._gz.close()
            self._file.flush()
            os.fsync(self._file.fileno())
        finally:
            self._file.close()


class Recording:
    """A recording opened for reading: `header` now, `events()` as you go."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.end: RecordingEnd | None = None
        self.count = 0
        self._lines = _lines(path)
        try:
            first = next(self._lines, None)
        except _Damage as damage:
            raise RecordingDamaged(f"{path}: damaged at byte {damage.offset} of {damage.size} ({damage.reason}), "
                                   "before the end of its header", events=0, offset=damage.offset) from None  # fmt: skip
        if first is None:
            raise RecordingCorrupt(f"{path}: empty recording (not even a header)")
        self.header = _header(path, first[1])

    def events(self) -> Iterator[TelemetryEvent]:
        """Every event, in order. Raises `RecordingCorrupt` at an undecodable line,
        `RecordingDamaged` after the last event before damaged compressed data, and, after
        the last complete event of a recording whose writer did not finish,
        `RecordingTruncated`."""
        try:
            for lineno, line in self._lines:
                if self.end is not None:
                    raise RecordingCorrupt(f"{self.path}: line {lineno}: data after the closing record")
                if line.startswith(b'{"end"'):
                    self.end = _trailer(self.path, lineno, line)
                    continue
                try:
                    event = parse_event(line)
                except ValidationError as exc:
                    raise RecordingCorrupt(f"{self.path}: line {lineno}: not a telemetry event: {_first_error(exc)}") from None
                self.count += 1
                yield event
        except _Damage as damage:
            raise RecordingDamaged(
                f"{self.path}: damaged at byte {damage.offset} of {damage.size} ({damage.reason}); "
                f"the recording is read up to there, after {self.count} events",
                events=self.count, offset=damage.offset, hint=damage.hint,
            ) from None
        if self.end is None:
            raise RecordingTruncated(
                f"{self.path}: recording ends without its closing record after {self.count} events "
                "(the writer was killed?)", events=self.count,
            )  # fmt: skip


def open_recording(path: str | os.PathLike[str]) -> Recording:
    """Open a recording and check its header; `RecordingError` subclasses say what is wrong."""
    return Recording(Path(path))


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of the decompressed file, tolerant of a cut gzip stream."""
    try:
        file = open(path, "rb")  # noqa: SIM115 - closed in finally
    except FileNotFoundError:
        raise RecordingError(f"{path}: no such recording") from None
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        magic = file.read(2)
        if magic != _GZIP_MAGIC:
            raise RecordingCorrupt(f"{path}: not a fleet recording (not gzip-compressed)",
                                   hint="recordings are written by `fleet monitor --record FILE`")  # fmt: skip
        size = os.fstat(file.fileno()).st_size
        file.seek(0)
        inflate = zlib.decompressobj(wbits=31)
        pending = b""
        lineno = 0
        offset = 0
        while not inflate.eof:
            chunk = file.read(_READ_CHUNK)
            if not chunk:
                break
            before = inflate.copy()
            damage = None
            try:
                data = inflate.decompress(chunk)
            except zlib.error as exc:
                data, at = _decode_up_to_error(before, chunk)
                damage = _Damage(offset + at, size, *_damage_reason(exc))
            if damage is None and inflate.eof and (inflate.unused_data or file.read(1)):
                end = offset + len(chunk) - len(inflate.unused_data)
                damage = _Damage(end, size, f"{size - end} bytes after the end of the compressed data", _UNREADABLE)
            offset += len(chunk)
            parts = (pending + data).split(b"\n")
            pending = parts.pop()
            for line in parts:
                lineno += 1
                if line:
                    yield lineno, line
            if damage is not None:
                raise damage  # a half line before the damage is not trusted: dropped
        if pending:
            raise RecordingTruncated(
                f"{path}: recording ends mid-record after {max(lineno - 1, 0)} events (the writer was killed?)",
                events=max(lineno - 1, 0),
            )  # fmt: skip
    finally:
        file.close()


class _Damage(Exception):
    """Raised by `_lines` after the last line before damaged compressed data."""

    def __init__(self, offset: int, size: int, reason: str, hint: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.size = size
        self.reason = reason
        self.hint = hint


def _decode_up_to_error(inflate, chunk: bytes, step: int = 4096) -> tuple[bytes, int]:  # noqa: ANN001 - zlib's Decompress
    """Everything `chunk` decodes to before zlib refuses it, and the index of the byte it refused.

    zlib gives nothing of a call that fails, so the chunk is fed again in `step`-byte pieces,
    and the piece that fails a byte at a time (only ever for a damaged file)."""
    out = []
    for start in range(0, len(chunk), step):
        piece = chunk[start : start + step]
        before = inflate.copy() if step > 1 else None
        try:
            out.append(inflate.decompress(piece))
        except zlib.error:
            if before is None:
                return b"".join(out), start
            data, at = _decode_up_to_error(before, piece, 1)
            return b"".join(out) + data, start + at
    return b"".join(out), len(chunk)


_UNREADABLE = "every event before the damage decoded and was read; nothing after it can be"


def _damage_reason(exc: zlib.error) -> tuple[str, str]:
    """What a zlib error means for the reader, and what it means for the events read."""
    text = str(exc)
    if "incorrect data check" in text or "incorrect length check" in text:
        what = "checksum" if "data check" in text else "length"
        return (f"the gzip {what} does not match the data",
                "every event decoded, but nothing vouches for them: some may be altered")  # fmt: skip
    return f"the compressed data is invalid: {text.split(': ', 1)[-1]}", _UNREADABLE


def _header(path: Path, line: bytes) -> RecordingHeader:
    try:
        raw = json.loads(line)
    except ValueError:
        raise RecordingCorrupt(f"{path}: line 1 is not a recording header (not JSON)") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise RecordingCorrupt(f"{path}: not a fleet telemetry recording (line 1 has no format {FORMAT!r})")
    if raw.get("version") != FORMAT_VERSION:
        raise RecordingCorrupt(
            f"{path}: recording format version {raw.get('version')!r}; this fleet reads version {FORMAT_VERSION}",
            hint="replay it with the fleet version that wrote it",
        )  # fmt: skip
    try:
        return RecordingHeader.model_validate(raw)
    except ValidationError as exc:
        raise RecordingCorrupt(f"{path}: bad recording header: {_first_error(exc)}") from None


def _trailer(path: Path, lineno: int, line: bytes) -> RecordingEnd:
    try:
        return RecordingEnd.model_validate_json(line)
    except ValidationError as exc:
        raise RecordingCorrupt(f"{path}: line {lineno}: bad closing record: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else err["msg"]
