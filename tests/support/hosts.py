"""Hand-written hosts for tests that check a board, not the client: each sends one request
at a time and sorts what comes back into responses and events, on one codec.

- `HostCodec`: numbers requests and decodes frames; the part every test host shares.
- `EngineHost`: drives a `BoardEngine` synchronously (no event loop, fake clock).
- `AsyncHost`: talks to a board over any `Transport`.
- `tests/support/board_link.py`'s `BoardLink`: a serial port, for the C firmware.
- `open_stream`, `send_stream`: an encoded upload (PROTOCOL.md section 10) step by step,
  through any of them (`EngineHost.ok`, `BoardLink.request`).

They use only `fleet.protocol`, never `fleet.client`: the board is what is under test.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator

from fleet.errors import DeviceError
from fleet.protocol import (
    ENCODING_BLOCKS, EVENTS, NO_SLOT, DataAck, Error, Frame, FrameDecoder, Message, ModelActivate, ModelBegin,
    ModelChunk, ModelCommit, ModelData, ModelStream, StreamAck, decode_message, encode_message,
)  # fmt: skip

# A host's request that returns the response and raises on an ERROR response.
Ask = Callable[[Message], Message]


class HostCodec:
    """The host side of the framing: request sequence numbers, and decoded frames with their headers."""

    def __init__(self) -> None:
        self.decoder = FrameDecoder(65535)
        self.seq = 0

    def encode(self, msg: Message) -> tuple[int, bytes]:
        """The next sequence number and the frame of `msg` under it."""
        self.seq = (self.seq + 1) & 0xFFFF
        return self.seq, encode_message(msg, self.seq)

    def decode(self, data: bytes) -> Iterator[tuple[Frame, Message]]:
        """Every frame `data` completes, with its message; events must be event types."""
        for frame in self.decoder.feed(data):
            if not frame.header.is_response:
                assert frame.header.type in EVENTS, f"the board sent request type {frame.header.type:#x} as an event"
            yield frame, decode_message(frame)


def raise_error(response: Message) -> Message:
    """`response`, or the typed `DeviceError` of an ERROR response."""
    if isinstance(response, Error):
        raise DeviceError.from_response(response.code, response.detail, response.text)
    return response


def open_stream(ask: Ask, model: bytes, slot: int = 0, base_slot: int = NO_SLOT, base_sha256: bytes = bytes(32),
                name: str = "enc", version: str = "1") -> int:  # fmt: skip
    """MODEL_BEGIN of `model` into `slot`, then MODEL_STREAM (with a base when `base_slot` is
    one): the model offset the stream starts at, which the STREAM_ACK and BEGIN ack agree on."""
    begin = ask(ModelBegin(slot, len(model), hashlib.sha256(model).digest(), name, version))
    ack = ask(ModelStream(ENCODING_BLOCKS, base_slot, base_sha256))
    assert isinstance(ack, StreamAck) and ack.offset == begin.offset
    return ack.offset


def send_stream(ask: Ask, stream: bytes, piece: int, stop_at: int | None = None) -> DataAck:
    """`stream` from its start in MODEL_DATAs of `piece` bytes, each acknowledged in full before
    the next; up to `stop_at` stream bytes if given (a host that goes away). The last DATA_ACK."""
    ack = DataAck(0, 0)
    end = len(stream) if stop_at is None else stop_at
    while ack.next_offset < end:
        at = ack.next_offset
        ack = ask(ModelData(at, stream[at : min(at + piece, end)]))
        assert isinstance(ack, DataAck) and ack.next_offset == min(at + piece, end)
    return ack


class EngineHost:
    """Synchronous host for a `BoardEngine`: responses are returned, events collected."""

    def __init__(self, engine) -> None:  # noqa: ANN001 - a fleet.sim BoardEngine
        self.engine = engine
        self.codec = HostCodec()
        self.events: list[Message] = []

    def boot(self, **kw) -> None:
        self._absorb(self.engine.boot(**kw))

    def send_raw(self, frame: bytes) -> list[Message]:
        """Feed bytes; returns the responses (errors as `Error`), events go to `events`."""
        return self._absorb(self.engine.receive(frame) + self.engine.run_pending())

    def request(self, msg: Message) -> Message:
        _, frame = self.codec.encode(msg)
        responses = self.send_raw(frame)
        assert len(responses) == 1, responses
        return responses[0]

    def ok(self, msg: Message) -> Message:
        return raise_error(self.request(msg))

    def tick(self, tx_room: int | None = None) -> list[Message]:
        before = len(self.events)
        self._absorb(self.engine.tick(tx_room))
        return self.events[before:]

    def upload(self, model: bytes, slot: int = 0, chunk: int = 1000, name: str = "m", version: str = "1") -> None:
        """BEGIN, every chunk from the resume offset, COMMIT."""
        ack = self.ok(ModelBegin(slot, len(model), hashlib.sha256(model).digest(), name, version))
        for offset in range(ack.offset, len(model), chunk):
            self.ok(ModelChunk(offset, model[offset : offset + chunk]))
        self.ok(ModelCommit(slot))

    def deploy(self, model: bytes, slot: int = 0, mode: int = 1) -> None:
        self.upload(model, slot)
        self.ok(ModelActivate(slot, mode))

    def _absorb(self, frames: list[bytes]) -> list[Message]:
        responses = []
        for frame, msg in self.codec.decode(b"".join(frames)):
            (responses if frame.header.is_response else self.events).append(msg)
        return responses


class AsyncHost:
    """A minimal async host on a transport: one outstanding request at a time."""

    def __init__(self, transport) -> None:  # noqa: ANN001 - a fleet.transport Transport
        self.transport = transport
        self.codec = HostCodec()
        self.events: asyncio.Queue[Message] = asyncio.Queue()
        self._responses: asyncio.Queue[tuple[int, Message]] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    async def send(self, msg: Message) -> int:
        """Write a request without waiting for its answer (pipelining); its sequence number."""
        seq, frame = self.codec.encode(msg)
        await self.transport.write(b"\x00" + frame)
        return seq

    async def request(self, msg: Message, timeout: float = 5.0) -> Message:
        seq = await self.send(msg)
        async with asyncio.timeout(timeout):
            while True:
                got, response = await self._responses.get()
                if got == seq:
                    return response

    async def response(self, timeout: float = 5.0) -> tuple[int, Message]:
        """The next response to come, whichever request it answers: (its seq, the message)."""
        async with asyncio.timeout(timeout):
            return await self._responses.get()

    async def event(self, cls: type[Message], timeout: float = 5.0) -> Message:
        async with asyncio.timeout(timeout):
            while True:
                msg = await self.events.get()
                if isinstance(msg, cls):
                    return msg

    async def close(self) -> None:
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self) -> None:
        while True:
            data = await self.transport.read()
            for frame, msg in self.codec.decode(data):
                if frame.header.is_response:
                    self._responses.put_nowait((frame.header.seq, msg))
                else:
                    self.events.put_nowait(msg)
