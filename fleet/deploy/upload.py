"""Model upload over one board client: resumable, windowed, go-back-N.

The board tells us its chunk limit (`max_payload`) and window (`rx_window` bytes) in INFO.
We keep the window full of MODEL_CHUNKs; each is answered by a cumulative ACK. An ACK that
does not cover its chunk means the board saw a gap (a chunk lost to a CRC error), so we
rewind to the board's offset and resend from there; silence past the ACK timeout does the
same; the ACK timeout follows the measured round trip (srtt + 4·rttvar, as TCP's RTO does),
so a lost frame costs a few window times, not seconds. When errors rise the chunk size halves (a short frame is less likely to be hit by a
bit error) and grows back after a run of clean ACKs. MODEL_BEGIN tells us where to start,
so a transfer broken by a disconnect, a reboot or a host restart resumes where it stopped.

ACKs are cumulative, so within one transfer they never go down and never pass the bytes
sent: an ACK that does either is a board lying, refused at once (`BoardRefused`) rather
than resent to or trusted.

A board that decodes encoded uploads (PROTOCOL.md section 10) gets the same window over an
encoded stream instead (MODEL_STREAM, then MODEL_DATA): a delta against its other slot when
we hold that model, else a compressed stream. The board's own answers steer the fallbacks:
a base that is not what we assumed (BASE_MISMATCH) drops the base, a second DECODE_FAILED
falls back to plain chunks, and every restart resumes from the slot's `received` (a model
offset), whatever was sent before.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from fleet.client import BoardClient
from fleet.deploy.model_cache import ModelCache
from fleet.deploy.stream_plan import ENCODINGS, PLAIN, EncodingCache, StreamPlan, plan_upload
from fleet.error_codes import ErrorCode
from fleet.errors import BoardRefused, DeviceError, FieldOutOfRange, FleetTimeout, UploadError
from fleet.protocol import (
    ENCODING_BLOCKS, NO_SLOT, SHA256_SIZE, BeginAck, Capability, ChunkAck, DataAck, Message, ModelBegin, ModelChunk,
    ModelData, ModelStream, StreamAck,
)  # fmt: skip
from fleet.upload_codec import EncodedModel

MIN_CHUNK = 64
CLEAN_ACKS_TO_GROW = 32
INITIAL_RTO_S = 1.0
MIN_RTO_S = 0.1
MAX_RTO_S = 5.0


@dataclass(frozen=True, slots=True)
class ModelImage:
    """The bytes to send and what the board should record about them."""

    data: bytes
    sha256: bytes
    name: str = ""
    version: str = ""


@dataclass(slots=True)
class UploadProgress:
    """Live figures of one transfer; `on_progress` receives this object as it changes."""

    size: int
    start_offset: int = 0
    acked: int = 0  # model bytes the board holds
    sent_bytes: int = 0  # chunk data put on the wire, retransmissions included
    wire_bytes: int = 0  # chunk or stream data the board acknowledged in this transfer (model bytes when plain)
    encoding: str = "plain"  # plain, deflate or delta: what the last attempt sent
    encode_s: float = 0.0  # host time spent encoding (counted in `elapsed`)
    retransmits: int = 0  # rewinds (gaps, timeouts)
    chunk: int = 0
    started: float = 0.0
    finished: float | None = None

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        """New bytes acknowledged per second in this transfer."""
        elapsed = self.elapsed
        return (self.acked - self.start_offset) / elapsed if elapsed > 0 else 0.0

    @property
    def wire_rate(self) -> float:
        """Data bytes on the wire acknowledged per second in this transfer."""
        elapsed = self.elapsed
        return self.wire_bytes / elapsed if elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        rate = self.rate
        return (self.size - self.acked) / rate if rate > 0 else None


@dataclass(slots=True)
class _InFlight:
    offset: int
    length: int
    future: asyncio.Future[Message]
    sent: float


@dataclass(slots=True)
class RetransmitTimer:
    """Jacobson/Karels retransmission timeout from ACK round-trip samples (RFC 6298)."""

    rto: float = INITIAL_RTO_S
    ceiling: float = MAX_RTO_S
    srtt: float | None = None
    rttvar: float = 0.0

    def sample(self, rtt: float) -> None:
        if self.srtt is None:
            self.srtt, self.rttvar = rtt, rtt / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt
        # RFC 6298 adds max(G, 4*RTTVAR); on a paced serial line the round trip is so steady
        # that RTTVAR is ~0, and scheduling jitter of the two processes would fire spurious
        # timeouts (each one a go-back-N resend of the window). Half the round trip is the G.
        self.rto = min(self.ceiling, max(MIN_RTO_S, self.srtt + max(4 * self.rttvar, self.srtt / 2)))

    def backoff(self) -> None:
        """After a timeout: the link may be slower than measured (RFC 6298 5.5)."""
        self.rto = min(self.ceiling, self.rto * 2)


async def upload(
    client: BoardClient,
    image: ModelImage,
    slot: int,
    *,
    compress: bool = True,
    bases: ModelCache | None = None,
    encodings: EncodingCache | None = None,
    initial_rto: float = INITIAL_RTO_S,
    max_rewinds: int = 200,
    on_progress: Callable[[UploadProgress], None] | None = None,
) -> UploadProgress:
    """Send `image` into `slot` until the board holds every byte; return the progress record.

    With `compress`, a board that declares DEFLATE gets an encoded stream: a delta when
    `bases` holds the model in its other slot, else compression; `encodings` (default: the
    process's) keeps what was encoded for the next board (a fresh one makes this upload pay
    for its encoding). Raises DeviceError if the
    board refuses, FleetTimeout if it stops answering for good, PortVanished if the link goes
    away (call again after reconnecting: it resumes).
    """
    info = client.info
    assert info is not None, "connect() the client first"
    plan = plan_upload(info, slot, compress=compress, bases=bases)
    progress: UploadProgress | None = None
    decode_failures = 0
    while True:
        begin = await client.request(ModelBegin(slot, len(image.data), image.sha256, image.name, image.version))
        assert isinstance(begin, BeginAck)
        offset = begin.offset if info.capabilities & Capability.RESUME else 0
        if progress is None:
            progress = UploadProgress(size=len(image.data), start_offset=offset, acked=offset, started=time.monotonic())
        progress.encoding = plan.encoding
        if plan is PLAIN or begin.offset >= len(image.data):
            await _send_plain(client, image, begin, offset, progress, initial_rto, max_rewinds, on_progress)
            break
        try:
            await _send_stream(client, image, begin, plan, encodings or ENCODINGS, progress, initial_rto, max_rewinds, on_progress)
            break
        except DeviceError as exc:
            if exc.code == ErrorCode.BASE_MISMATCH:
                plan = plan.without_base()  # the board holds something else than we thought
            elif exc.code == ErrorCode.DECODE_FAILED and decode_failures == 0:
                decode_failures += 1
            elif exc.code in (ErrorCode.DECODE_FAILED, ErrorCode.UNKNOWN_TYPE):
                plan = PLAIN
            else:
                raise
    progress.finished = time.monotonic()
    if on_progress:
        on_progress(progress)
    return progress


async def _send_plain(client, image, begin, offset, progress, initial_rto, max_rewinds, on_progress) -> None:  # noqa: ANN001
    sender = _Sender(client, image.data, offset, progress, on_progress, _PlainWire(progress, offset))
    sender.sent_end = begin.offset  # what the board already holds counts as sent, RESUME or not
    await _run(sender, client, initial_rto, max_rewinds)


async def _send_stream(client, image, begin, plan: StreamPlan, encodings: EncodingCache, progress, initial_rto,  # noqa: ANN001
                       max_rewinds, on_progress) -> None:  # noqa: ANN001
    began = time.monotonic()
    encoded = await encodings.get(image.data, image.sha256, begin.offset, plan)
    progress.encode_s += time.monotonic() - began
    opened = await client.request(ModelStream(
        ENCODING_BLOCKS, NO_SLOT if plan.base_slot is None else plan.base_slot, plan.base_sha256 or bytes(SHA256_SIZE),
    ))  # fmt: skip
    assert isinstance(opened, StreamAck)
    if opened.offset != begin.offset:
        raise BoardRefused(client.name, FieldOutOfRange("StreamAck", "offset", opened.offset,
                                                        f"MODEL_BEGIN answered {begin.offset}"))  # fmt: skip
    sender = _Sender(client, encoded.stream, 0, progress, on_progress, _StreamWire(progress, encoded, client.name))
    await _run(sender, client, initial_rto, max_rewinds)


async def _run(sender: _Sender, client: BoardClient, initial_rto: float, max_rewinds: int) -> None:
    drain = _drain_time(sender.window + sender.max_chunk, client.transport.baud)
    timer = RetransmitTimer(rto=max(initial_rto, drain), ceiling=max(MAX_RTO_S, 2 * drain))
    try:
        await sender.run(timer, max_rewinds)
    finally:
        sender.abandon()


class _PlainWire:
    """MODEL_CHUNK / MODEL_ACK: offsets are model offsets."""

    request = ModelChunk
    ack = ChunkAck

    def __init__(self, progress: UploadProgress, offset: int) -> None:
        self.progress = progress
        self.base_wire = progress.wire_bytes - offset

    def acknowledged(self, ack: Message, next_offset: int) -> None:
        self.progress.acked = next_offset
        self.progress.wire_bytes = self.base_wire + next_offset


class _StreamWire:
    """MODEL_DATA / DATA_ACK: offsets count in the stream; `received` is checked against the
    block ends (a board may only claim a block the acknowledged stream bytes complete)."""

    request = ModelData
    ack = DataAck

    def __init__(self, progress: UploadProgress, encoded: EncodedModel, board: str) -> None:
        self.progress = progress
        self.encoded = encoded
        self.board = board
        self.base_wire = progress.wire_bytes

    def acknowledged(self, ack: Message, next_offset: int) -> None:
        assert isinstance(ack, DataAck)
        expected = self.encoded.model_end_below(ack.next_offset)
        if ack.received != expected:
            raise BoardRefused(self.board, FieldOutOfRange(
                "DataAck", "received", ack.received, f"the blocks below stream offset {ack.next_offset} end at {expected}",
            ))  # fmt: skip
        self.progress.acked = ack.received
        self.progress.wire_bytes = self.base_wire + next_offset


def _drain_time(nbytes: int, baud: int | None) -> float:
    """Twice the time `nbytes` of frames take on an 8N1 line: before any round trip is
    measured, a timeout shorter than that would resend chunks still queued on a slow line
    and bury the link in duplicates."""
    if not baud:
        return 0.0
    return 2 * nbytes * 1.03 / (baud / 10)  # 1.03: header, CRC and COBS overhead per frame


class _Sender:
    """Go-back-N over `data` (the model, or an encoded stream) from `offset`; `wire` says which
    messages carry it and what an ACK means for the model's progress."""

    def __init__(self, client, data, offset, progress, on_progress, wire) -> None:  # noqa: ANN001
        info = client.info
        max_chunk = info.max_payload - 4
        self.client: BoardClient = client
        self.data: bytes = data
        self.wire: _PlainWire | _StreamWire = wire
        self.max_chunk: int = max_chunk
        self.chunk: int = max_chunk
        self.window: int = max(info.rx_window, max_chunk)
        self.progress: UploadProgress = progress
        self.on_progress = on_progress
        self.acked: int = offset
        self.next: int = offset
        self.sent_end: int = offset  # the end of the furthest chunk ever sent: no ACK may pass it
        self.inflight: deque[_InFlight] = deque()
        self.clean = 0

    async def run(self, timer: RetransmitTimer, max_rewinds: int) -> None:
        size = len(self.data)
        rewinds = 0
        while self.acked < size:
            await self._fill()
            head = self.inflight[0]
            try:
                # Not wait_for: on 3.11 it returns an ACK that comes in the step a cancellation
                # (Ctrl-C) does and drops the cancellation, and the deploy goes on to CONFIRM.
                async with asyncio.timeout(max(0.0, head.sent + timer.rto - time.monotonic())):
                    ack = await asyncio.shield(head.future)
            except TimeoutError:
                ack = None
                timer.backoff()
            except DeviceError as exc:
                if exc.code in (ErrorCode.NO_UPLOAD, ErrorCode.OUT_OF_RANGE):
                    # The board lost the upload (it rebooted): start over with BEGIN, which resumes.
                    raise UploadError(exc.code, exc.detail, f"upload interrupted: {exc.text}", board=self.client.name) from None
                raise
            is_ack = isinstance(ack, self.wire.ack)
            if is_ack:
                self._check(ack)
            if is_ack and ack.next_offset >= head.offset + head.length:
                self.inflight.popleft()
                timer.sample(time.monotonic() - head.sent)
                self._advance(ack)
                continue
            # A gap or silence: rewind to what the board holds and resend from there.
            rewinds += 1
            if rewinds > max_rewinds:
                raise FleetTimeout(
                    f"{self.client.name}: upload stalled at {self.acked} of {size} bytes after {max_rewinds} resends",
                    hint="the link is too noisy: check the cable, or lower the baud rate",
                )
            if is_ack and ack.next_offset > self.acked:
                self._advance(ack)
            self._rewind()

    async def _fill(self) -> None:
        size = len(self.data)
        while self.next < size and (not self.inflight or self.next + self.chunk - self.acked <= self.window):
            length = min(self.chunk, size - self.next)
            fut = await self.client.send(self.wire.request(self.next, self.data[self.next : self.next + length]))
            self.inflight.append(_InFlight(self.next, length, fut, time.monotonic()))
            self.next += length
            self.sent_end = max(self.sent_end, self.next)
            self.progress.sent_bytes += length

    def _check(self, ack: ChunkAck | DataAck) -> None:
        if ack.next_offset > self.sent_end:
            limit = f"only {self.sent_end} bytes were sent"
        elif ack.next_offset < self.acked:
            limit = f"the board acknowledged {self.acked} bytes before"
        else:
            return
        raise BoardRefused(self.client.name, FieldOutOfRange(type(ack).__name__, "next_offset", ack.next_offset, limit))

    def _advance(self, ack: ChunkAck | DataAck) -> None:
        self.acked = max(self.acked, ack.next_offset)
        self.wire.acknowledged(ack, self.acked)
        self.clean += 1
        if self.clean >= CLEAN_ACKS_TO_GROW and self.chunk < self.max_chunk:
            self.chunk = min(self.max_chunk, self.chunk * 2)
            self.clean = 0
        self.progress.chunk = self.chunk
        if self.on_progress:
            self.on_progress(self.progress)

    def _rewind(self) -> None:
        self.abandon()
        self.next = self.acked
        self.progress.retransmits += 1
        self.clean = 0
        self.chunk = max(MIN_CHUNK, self.chunk // 2)
        self.progress.chunk = self.chunk

    def abandon(self) -> None:
        """Forget every chunk in flight (their late ACKs are counted by the client and ignored)."""
        while self.inflight:
            fut = self.inflight.popleft().future
            if not fut.done():
                fut.cancel()
            else:
                with contextlib.suppress(BaseException):
                    fut.exception()  # retrieved, so asyncio does not warn about it
