"""An asyncio client for one board: requests matched to responses, events, clock sync.

    async with await BoardClient.connect(transport) as board:
        print(board.info.board_kind)
        await board.request(StreamConfig(Stream.RESULTS | Stream.POWER))
        async for event in board.subscribe():
            ...

Requests are matched to responses by seq. A request that gets no answer within the
timeout is sent again with a new seq (every v1 request is idempotent) up to `retries`
times, then fails with `RequestTimeout`. An ERROR response raises the `DeviceError`
subclass for its code; an answer that arrives intact but does not decode raises its
`ProtocolError` (e.g. `MalformedMessage`) at once. Unsolicited events go to every subscriber through a bounded queue;
a subscriber that falls behind loses events, and the loss is counted, never silent. An
owner that folds events as they come (the fleet manager) adds a listener instead: called
in the reader for each event, no queue between; or, for the streamed events (INFER_RESULT,
POWER), a stream sink: called in the reader with all of a read's streamed events at once,
as `fleet.protocol.stream` records (no Message is made for them unless a subscriber
wants one). When the transport ends, pending
requests and subscribers get `PortVanished` and `wait_closed()` returns.

A board is untrusted input. A frame of a type or version v1 does not define is counted
and ignored (PROTOCOL.md section 3); but a message whose payload breaks its layout or a
limit (`fleet.protocol.limits`), or a response that does not fit its request
(`fleet.protocol.answers`), ends the link with `BoardRefused`, naming the board and what
was wrong: pending requests, subscribers and `wait_closed()` all get that error.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fleet.cancel import cancel_and_wait
from fleet.errors import (
    BoardRebooted, BoardRefused, DeviceError, PortBusy, PortVanished, ProtocolError, RequestTimeout, UnknownMessageType,
    UnsupportedVersion,
)  # fmt: skip
from fleet.protocol import (
    PROTOCOL_VERSION, Boot, BootReason, Capability, Error, Frame, FrameDecoder, Hello, Info, Message, Ping, Pong, Runtime,
    RuntimeInfo, decode_message, encode_message,
)  # fmt: skip
from fleet.protocol.answers import check_answer
from fleet.protocol.framing import DELIMITER
from fleet.protocol.stream import STREAM_UNPACKERS, StreamRecord, stream_message
from fleet.transport.base import Transport

HOST_MAX_PAYLOAD = 4096
# Back-to-back frames (pipelined chunks) need no extra delimiter; a frame after a pause does.
RESYNC_AFTER_IDLE_S = 0.005


@dataclass(slots=True)
class LinkStats:
    """Health of one board's link, as the host sees it."""

    frames_in: int = 0
    frames_out: int = 0
    bad_crc: int = 0
    malformed: int = 0  # undecodable frames and messages
    too_long: int = 0
    timeouts: int = 0
    retries: int = 0
    late_responses: int = 0  # answers to requests we had given up on
    events: int = 0
    events_lost: int = 0  # gaps in the board's event sequence
    events_dropped: int = 0  # events a slow subscriber had no room for


@dataclass(frozen=True, slots=True)
class ClockEstimate:
    """Board clock relative to the host's monotonic clock, from the best PING sample.

    host_time = device_time_us / 1e6 - offset_s (both on the host's `time.monotonic()` scale).
    """

    offset_s: float
    rtt_s: float

    def to_host(self, device_time_us: int) -> float:
        return device_time_us / 1e6 - self.offset_s


@dataclass(slots=True, eq=False)
class Subscription:
    """A bounded queue of events for one consumer. Iterate it with `async for`."""

    queue: asyncio.Queue[Message | Exception]
    dropped: int = 0
    _client: BoardClient | None = field(default=None, repr=False)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        item = await self.queue.get()
        if isinstance(item, PortVanished):
            raise StopAsyncIteration
        if isinstance(item, Exception):
            raise item
        return item

    async def get(self) -> Message:
        """The next event; raises PortVanished when the board is gone."""
        item = await self.queue.get()
        if isinstance(item, Exception):
            raise item
        return item

    def close(self) -> None:
        if self._client is not None:
            self._client._subscribers.discard(self)
            self._client = None


class BoardClient:
    """One board over one transport. Create with `await BoardClient.connect(transport)`."""

    def __init__(
        self,
        transport: Transport,
        *,
        name: str | None = None,
        timeout: float = 2.0,
        retries: int = 3,
        max_payload: int = HOST_MAX_PAYLOAD,
    ) -> None:
        self.transport = transport
        self.name = name or transport.name
        self.timeout = timeout
        self.retries = retries
        self.info: Info | None = None
        self.clock: ClockEstimate | None = None
        self._stats = LinkStats()
        self.boots = 0
        self._max_payload = max_payload
        self._decoder = FrameDecoder(max_payload=max_payload)
        self._seq = 0
        self._pending: dict[int, tuple[Message, asyncio.Future[Message]]] = {}
        self._subscribers: set[Subscription] = set()
        self._listeners: list[Callable[[Message], None]] = []
        self._stream_sinks: list[Callable[[list[StreamRecord]], None]] = []
        self._ended = asyncio.Event()
        self._event_seq: int | None = None
        self._write_lock = asyncio.Lock()
        self._last_write = 0.0
        self._bad_messages = 0
        self._reader: asyncio.Task[None] | None = None
        self._closed: Exception | None = None

    # --- lifecycle -------------------------------------------------------------------

    @classmethod
    async def connect(cls, transport: Transport, *, hello_timeout: float | None = None, **kwargs) -> BoardClient:
        """Start reading, say HELLO and return the client with `info` filled in.

        On failure the transport is closed and the error re-raised.
        """
        client = cls(transport, **kwargs)
        client.start()
        try:
            await client.hello(timeout=hello_timeout)
        except BaseException:
            await client.close()
            raise
        return client

    def start(self) -> None:
        """Start the reader task (connect() does this)."""
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read_loop(), name=f"read {self.name}")

    async def close(self) -> None:
        """Stop reading and close the transport; pending requests fail with PortVanished.
        A close that is cancelled itself still closes the port, then ends cancelled."""
        try:
            if self._reader is not None:
                await cancel_and_wait(self._reader)
        finally:
            self._fail_all(PortVanished(f"{self.name}: connection closed"))
            await self.transport.close()

    async def __aenter__(self) -> BoardClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def stats(self) -> LinkStats:
        """The link's counters, up to date (the decoder's are copied in when asked, not per read)."""
        d, stats = self._decoder.stats, self._stats
        stats.frames_in = d.frames
        stats.bad_crc = d.bad_crc
        stats.too_long = d.too_long
        stats.malformed = d.malformed + self._bad_messages
        return stats

    @property
    def connected(self) -> bool:
        return self._closed is None and self._reader is not None and not self._reader.done()

    async def wait_closed(self) -> Exception:
        """Wait until the connection has ended; returns why (a `PortVanished`, usually)."""
        await self._ended.wait()
        assert self._closed is not None
        return self._closed

    # --- requests --------------------------------------------------------------------

    async def hello(self, timeout: float | None = None) -> Info:
        """HELLO -> INFO; refuses a board that speaks another protocol version."""
        info = await self.request(Hello(PROTOCOL_VERSION, self._max_payload), timeout=timeout)
        assert isinstance(info, Info)
        if info.proto_version != PROTOCOL_VERSION:
            raise UnsupportedVersion(
                f"{self.name}: board speaks protocol v{info.proto_version}, this fleet speaks v{PROTOCOL_VERSION}",
                hint="update the board's firmware or fleet so both speak the same version",
            )
        self.info = info
        return info

    async def runtime(self) -> RuntimeInfo | None:
        """RUNTIME -> the board's runtime and the operators it can run; None when the board does
        not declare `Capability.RUNTIME` (it would answer UNKNOWN_TYPE), so nobody can say."""
        info = self.info or await self.hello()
        if not info.capabilities & Capability.RUNTIME:
            return None
        answer = await self.request(Runtime())
        assert isinstance(answer, RuntimeInfo)
        return answer

    async def request(self, msg: Message, *, timeout: float | None = None, retries: int | None = None) -> Message:
        """Send a request and return its response; retries with a new seq on timeout."""
        timeout = self.timeout if timeout is None else timeout
        retries = self.retries if retries is None else retries
        for attempt in range(retries + 1):
            if attempt:
                self._stats.retries += 1
            fut = await self.send(msg)
            try:
                # Not asyncio.wait_for: on 3.11 it returns an answer that arrives in the step a
                # cancellation does and drops the cancellation (a stopped session then served on).
                async with asyncio.timeout(timeout):
                    return await fut
            except TimeoutError:
                self._stats.timeouts += 1
        raise RequestTimeout(
            f"{self.name}: no answer to {type(msg).__name__} after {retries + 1} tries of {timeout:g} s",
            hint="check the cable and the baud rate, and that the board runs fleet firmware",
        )

    async def send(self, msg: Message) -> asyncio.Future[Message]:
        """Send a request without waiting; the future resolves with its response.

        For pipelining (model chunks). The future is forgotten once it is done or cancelled,
        so a caller that gives up just cancels it.
        """
        if self._closed is not None:
            raise self._closed
        self._seq = (self._seq + 1) & 0xFFFF
        seq = self._seq
        fut: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[seq] = (msg, fut)
        if len(self._pending) == 1:
            self._awaiting_answer(True)
        fut.add_done_callback(lambda _f, s=seq: self._forget(s, _f))
        try:
            await self.write(encode_message(msg, seq))
        except BaseException:
            fut.cancel()  # nobody will await it
            raise
        return fut

    def _forget(self, seq: int, fut: asyncio.Future[Message]) -> None:
        entry = self._pending.get(seq)
        if entry is not None and entry[1] is fut:
            del self._pending[seq]
            if not self._pending:
                self._awaiting_answer(False)

    def _awaiting_answer(self, on: bool) -> None:
        # A transport that reads in shared passes reads at once while an answer is awaited.
        awaiting = getattr(self.transport, "awaiting_answer", None)
        if awaiting is not None:
            awaiting(on)

    async def write(self, wire: bytes) -> None:
        """Write one encoded frame. After the line was idle, lead with a delimiter: if noise
        ate the delimiter of the last frame, the board still holds its tail, and without a
        fresh delimiter this frame would be glued to it and lost too."""
        async with self._write_lock:
            now = time.monotonic()
            if now - self._last_write > RESYNC_AFTER_IDLE_S:
                wire = DELIMITER + wire
            self._last_write = now
            await self.transport.write(wire)
        self._stats.frames_out += 1

    async def ping(self, data: bytes = b"") -> tuple[Pong, float, float]:
        """One PING: (pong, host send time, host receive time) on the monotonic clock."""
        t0 = time.monotonic()
        pong = await self.request(Ping(data))
        t1 = time.monotonic()
        assert isinstance(pong, Pong)
        return pong, t0, t1

    async def sync_clock(self, samples: int = 5) -> ClockEstimate:
        """Estimate the board clock offset from the PING with the smallest round trip."""
        best: ClockEstimate | None = None
        for _ in range(samples):
            pong, t0, t1 = await self.ping()
            estimate = ClockEstimate(offset_s=pong.device_time_us / 1e6 - (t0 + t1) / 2, rtt_s=t1 - t0)
            if best is None or estimate.rtt_s < best.rtt_s:
                best = estimate
        assert best is not None
        self.clock = best
        return best

    # --- events ----------------------------------------------------------------------

    def subscribe(self, maxsize: int = 1024) -> Subscription:
        """A new bounded queue that receives every event from now on."""
        sub = Subscription(asyncio.Queue(maxsize), _client=self)
        if self._closed is not None:
            sub.queue.put_nowait(self._closed)
        else:
            self._subscribers.add(sub)
        return sub

    def _publish(self, msg: Message, seq: int) -> None:
        self._stats.events += 1
        if isinstance(msg, Boot):
            self.boots += 1
            if self.info is not None:
                # Boards answer in order, so a BOOT after our HELLO was answered means a reset
                # that lost every request still pending: fail them now rather than time out.
                self._fail_pending(BoardRebooted(f"{self.name}: the board rebooted ({_boot_reason(msg.reason)})"))
        elif self._event_seq is not None:
            gap = (seq - self._event_seq - 1) & 0xFFFF
            self._stats.events_lost += gap
        self._event_seq = seq
        for listener in self._listeners:
            listener(msg)
        for sub in self._subscribers:
            try:
                sub.queue.put_nowait(msg)
            except asyncio.QueueFull:
                sub.dropped += 1
                self._stats.events_dropped += 1

    def _publish_stream(self, records: list[StreamRecord]) -> None:
        """A read's streamed events, in order: counted as `_publish` counts each, then to
        the stream sinks in one call (to the listeners, as messages, when there is none)."""
        sinks = self._stream_sinks
        if not sinks:  # the last sink went during this read
            for record in records:
                self._publish(stream_message(record), record[1])
            return
        last = self._event_seq
        if last is None:  # the first event since connecting: nothing before it was lost
            last = (records[0][1] - 1) & 0xFFFF
        lost = 0
        for _type, seq, _values in records:
            lost += (seq - last - 1) & 0xFFFF
            last = seq
        self._event_seq = last
        stats = self._stats
        stats.events += len(records)
        if lost:
            stats.events_lost += lost
        for sink in sinks:
            sink(records)
        for sub in self._subscribers:
            for record in records:
                try:
                    sub.queue.put_nowait(stream_message(record))
                except asyncio.QueueFull:
                    sub.dropped += 1
                    stats.events_dropped += 1

    def add_listener(self, listener: Callable[[Message], None]) -> Callable[[], None]:
        """Call `listener(event)` for every event from now on, in the reader, as each is
        decoded; returns a function that removes it. A listener must not block; an
        exception it raises ends the connection (as a reader failure). While a stream sink
        is registered, the streamed events go to the sinks instead."""
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    def add_stream_sink(self, sink: Callable[[list[StreamRecord]], None]) -> Callable[[], None]:
        """Call `sink(records)` with every streamed event (INFER_RESULT, POWER) from now on,
        in the reader, a read's worth at once as `fleet.protocol.stream` records (type, seq,
        field values, all checked as decoding checks a message); listeners then no longer
        get them. Returns a function that removes it. Like a listener it must not block, and
        an exception it raises ends the connection."""
        self._stream_sinks.append(sink)
        self._decoder.stream = STREAM_UNPACKERS

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._stream_sinks.remove(sink)
            if not self._stream_sinks:
                self._decoder.stream = None

        return remove

    # --- reading ---------------------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            feed_to = getattr(self.transport, "feed_to", None)
            if feed_to is not None:
                # Bytes are decoded in the transport's reader callback as they arrive: no
                # queue and no task wake-up per chunk. read() then only raises (the end).
                feed_to(self._receive)
            while True:
                self._receive(await self.transport.read())
        except (PortVanished, PortBusy, BoardRefused) as exc:
            self._fail_all(exc)
        except ProtocolError as exc:  # a listener could not use an event (an output type fleet cannot read)
            self._fail_all(BoardRefused(self.name, exc))
        except Exception as exc:  # noqa: BLE001 - a transport bug must not leave callers hanging
            self._fail_all(PortVanished(f"{self.name}: reader failed: {exc!r}"))

    def _receive(self, data: bytes) -> None:
        items = self._decoder.feed(data)
        if not self._decoder.general:  # the usual read of a streaming board: its events only
            if items:
                self._publish_stream(items)  # type: ignore[arg-type]
            return
        records: list[StreamRecord] | None = None  # fast-path events since the last frame
        for item in items:
            if item.__class__ is not Frame:
                if records is None:
                    records = [item]  # type: ignore[list-item]
                else:
                    records.append(item)  # type: ignore[arg-type]
                continue
            if records is not None:
                self._publish_stream(records)
                records = None
            self._dispatch(item)  # type: ignore[arg-type]
        if records is not None:
            self._publish_stream(records)

    def _dispatch(self, frame: Frame) -> None:
        header = frame.header
        try:
            msg = decode_message(frame)
        except (UnknownMessageType, UnsupportedVersion):
            self._bad_messages += 1  # not ours to read (section 3): counted, ignored
            return
        except ProtocolError as exc:  # a layout or a limit broken: the board is refused
            self._bad_messages += 1
            raise BoardRefused(self.name, exc) from None
        if not header.is_response:
            self._publish(msg, header.seq)
            return
        entry = self._pending.get(header.seq)
        if entry is None or entry[0].TYPE != header.type or entry[1].done():
            self._stats.late_responses += 1
            return
        request, fut = entry
        if not isinstance(msg, Error):
            try:
                check_answer(request, msg, self.info)
            except ProtocolError as exc:
                raise BoardRefused(self.name, exc) from None
        if isinstance(msg, Error):
            fut.set_exception(DeviceError.from_response(msg.code, msg.detail, msg.text, board=self.name))
        else:
            fut.set_result(msg)

    def _fail_pending(self, exc: Exception) -> None:
        for _type, fut in list(self._pending.values()):
            if not fut.done():
                fut.set_exception(exc)
        self._pending.clear()
        self._awaiting_answer(False)

    def _fail_all(self, exc: Exception) -> None:
        if self._closed is None:
            self._closed = exc
        self._fail_pending(exc)
        for sub in list(self._subscribers):
            if sub.queue.full():
                sub.queue.get_nowait()  # make room: the consumer must learn that the board is gone
                sub.dropped += 1
            sub.queue.put_nowait(exc)
        self._subscribers.clear()
        self._listeners.clear()
        self._stream_sinks.clear()
        self._decoder.stream = None
        self._ended.set()


def _boot_reason(code: int) -> str:
    try:
        return BootReason(code).name.lower().replace("_", " ")
    except ValueError:
        return f"reason {code}"
