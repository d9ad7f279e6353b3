"""A meter's stream in batches (fleet.meters.batches): joined reads, the last byte's arrival,
a partial batch after the wait, the transport's end raised."""

from __future__ import annotations

import asyncio
import time

import pytest

from fleet.errors import PortVanished
from fleet.meters.batches import StreamBatches
from fleet.transport.memory import memory_pipe


class PushTransport:
    """A transport that hands its bytes to a receiver (as the serial one does) and ends on `end()`."""

    name = "push"
    baud = None

    def __init__(self) -> None:
        self.receiver = None
        self._end: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def feed_to(self, receiver) -> None:  # noqa: ANN001
        self.receiver = receiver

    async def read(self) -> bytes:
        return await asyncio.shield(self._end)

    def end(self, why: Exception) -> None:
        self._end.set_exception(why)

    async def write(self, data: bytes) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        pass


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_reads_are_joined_until_a_batch_is_full():
    transport = PushTransport()
    batches = StreamBatches(transport, min_bytes=10, max_wait_s=3600)
    take = asyncio.create_task(batches.take())
    transport.receiver(b"abcd")
    await settle()
    assert not take.done()  # 4 of 10 bytes: it waits (an hour at most)
    transport.receiver(b"efgh")
    await settle()
    assert not take.done()
    before = time.time()
    transport.receiver(b"ijkl")
    data, arrival = await take
    assert data == b"abcdefghijkl"
    assert before <= arrival <= time.time()  # when the last bytes came
    transport.receiver(b"0123456789")  # a full batch already in: no wait
    assert (await batches.take())[0] == b"0123456789"
    await batches.close()


async def test_a_partial_batch_is_handed_over_after_the_wait():
    transport = PushTransport()
    batches = StreamBatches(transport, min_bytes=1_000_000, max_wait_s=0.001)
    transport.receiver(b"xyz")
    assert (await batches.take())[0] == b"xyz"
    take = asyncio.create_task(batches.take())
    await asyncio.sleep(0.01)  # waits over: still nothing, so it keeps waiting for bytes
    assert not take.done()
    transport.receiver(b"w")
    assert (await take)[0] == b"w"
    await batches.close()


async def test_the_end_of_the_stream_is_raised_by_take():
    transport = PushTransport()
    batches = StreamBatches(transport, min_bytes=10, max_wait_s=3600)
    take = asyncio.create_task(batches.take())
    await settle()
    transport.end(PortVanished("push: port went away"))
    with pytest.raises(PortVanished, match="went away"):
        await take


async def test_a_transport_without_a_receiver_is_read_a_read_at_a_time():
    host, meter = memory_pipe()
    batches = StreamBatches(host, min_bytes=1_000_000, max_wait_s=3600)
    await meter.write(b"abc")
    assert (await batches.take())[0] == b"abc"
    await meter.close()
    with pytest.raises(PortVanished):
        await batches.take()
    await batches.close()
