"""Test hosts for virtual boards: send a request, get its response; collect events.

`EngineHost` drives a `BoardEngine` synchronously (no event loop, fake clock);
`AsyncHost` talks to a board over any `Transport`. Both only use `fleet.protocol`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator

from fleet.errors import DeviceError
from fleet.protocol import (
    EVENTS, Error, FrameDecoder, Message, ModelActivate, ModelBegin, ModelChunk, ModelCommit, decode_message,
    encode_message,
)  # fmt: skip
from fleet.sim.engine import BoardEngine
from fleet.transport.base import Transport


class EngineHost:
    """Synchronous host for a `BoardEngine`: responses are returned, events collected."""

    def __init__(self, engine: BoardEngine) -> None:
        self.engine = engine
        self.decoder = FrameDecoder(65535)
        self.events: list[Message] = []
        self.seq = 0

    def boot(self, **kw) -> None:
        self._absorb(self.engine.boot(**kw))

    def send_raw(self, frame: bytes) -> list[Message]:
        """Feed bytes; returns the responses (errors as `Error`), events go to `events`."""
        return self._absorb(self.engine.receive(frame) + self.engine.run_pending())

    def request(self, msg: Message) -> Message:
        self.seq = (self.seq + 1) & 0xFFFF
        responses = self.send_raw(encode_message(msg, self.seq))
        assert len(responses) == 1, responses
        return responses[0]

    def ok(self, msg: Message) -> Message:
        response = self.request(msg)
        if isinstance(response, Error):
            raise DeviceError.from_response(response.code, response.detail, response.text)
        return response

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
        for frame in self.decoder.feed(b"".join(frames)):
            msg = decode_message(frame)
            if frame.header.is_response:
                responses.append(msg)
            else:
                assert frame.header.type in EVENTS
                self.events.append(msg)
        return responses


class AsyncHost:
    """A minimal async host on a transport: one outstanding request at a time."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.decoder = FrameDecoder(65535)
        self.events: asyncio.Queue[Message] = asyncio.Queue()
        self._responses: asyncio.Queue[tuple[int, Message]] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())
        self.seq = 0

    async def request(self, msg: Message, timeout: float = 5.0) -> Message:
        self.seq = (self.seq + 1) & 0xFFFF
        await self.transport.write(b"\x00" + encode_message(msg, self.seq))
        async with asyncio.timeout(timeout):
            while True:
                seq, response = await self._responses.get()
                if seq == self.seq:
                    return response

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
            for frame in self.decoder.feed(data):
                msg = decode_message(frame)
                if frame.header.is_response:
                    self._responses.put_nowait((frame.header.seq, msg))
                else:
                    self.events.put_nowait(msg)


@contextlib.contextmanager
def sim_process(env: dict[str, str], cwd, boards: int, *options: str) -> Iterator[list[dict]]:  # noqa: ANN001
    """`fleet sim --boards N --json OPTIONS` in a child process; yields each board's JSON line, then stops it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleet", "sim", "--boards", str(boards), "--json", *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        yield [json.loads(proc.stdout.readline()) for _ in range(boards)]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
