"""Client behaviour that a well-behaved board never shows: silence, late answers, errors,
event gaps, a board that vanishes. The other end of the memory pipe is scripted here;
the client against real virtual boards is tested in tests/client/test_client_sim.py."""

import asyncio
import dataclasses

import pytest

from fleet.client import BoardClient
from fleet.errors import MalformedMessage, ModelRejected, PortVanished, RequestTimeout, UnsupportedVersion
from fleet.protocol import (
    Capability, Error, ErrorCode, Flags, FrameDecoder, Info, Log, ModelCommit, MsgType, Ping, Pong, RuntimeInfo, SlotInfo,
    decode_message, encode_error, encode_frame, encode_message,
)  # fmt: skip
from fleet.transport.memory import MemoryTransport, memory_pipe

INFO = Info(1, 0xFF, 1024, 0x1F, 4096, 1000, 2000, 1_000_000, b"\x01\x02", "test", "scripted", (SlotInfo(), SlotInfo()))


class Scripted:
    """The board end of a memory pipe, answering with a function of (seq, request)."""

    def __init__(self, transport, answer):
        self.transport = transport
        self.answer = answer
        self.requests = []
        self.task = asyncio.get_running_loop().create_task(self.run())

    async def run(self):
        decoder = FrameDecoder()
        try:
            while True:
                for frame in decoder.feed(await self.transport.read()):
                    msg = decode_message(frame)
                    self.requests.append((frame.header.seq, msg))
                    wire = self.answer(frame.header.seq, msg)
                    if wire:
                        await self.transport.write(wire)
        except PortVanished:
            pass


def hello_then(answer):
    def respond(seq, msg):
        if msg.TYPE == MsgType.HELLO:
            return encode_message(INFO, seq)
        return answer(seq, msg)

    return respond


async def board_answering_hello_only():
    """(client, board end): a scripted board that answers HELLO and nothing else."""
    host, board = memory_pipe()
    Scripted(board, hello_then(lambda seq, msg: None))
    return await BoardClient.connect(host), board


async def test_request_is_retried_with_a_new_seq_then_times_out():
    host, board = memory_pipe()
    dev = Scripted(board, hello_then(lambda seq, msg: None))
    client = await BoardClient.connect(host, timeout=0.05, retries=2)
    with pytest.raises(RequestTimeout, match="no answer to Ping after 3 tries"):
        await client.ping()
    seqs = [seq for seq, msg in dev.requests if isinstance(msg, Ping)]
    assert len(seqs) == 3 and len(set(seqs)) == 3
    assert client.stats.timeouts == 3 and client.stats.retries == 2
    await client.close()


async def test_late_answer_to_an_abandoned_request_is_counted_not_delivered():
    host, board = memory_pipe()
    answered = []

    def answer(seq, msg):
        answered.append(seq)
        if len(answered) == 1:
            return None  # swallow the first try; answer it late, together with the retry
        return encode_message(Pong(7, b"late"), answered[0]) + encode_message(Pong(8, msg.data), seq)

    Scripted(board, hello_then(answer))
    client = await BoardClient.connect(host, timeout=0.05, retries=1)
    pong, _, _ = await client.ping(b"fresh")
    assert pong == Pong(8, b"fresh")
    assert client.stats.late_responses == 1
    await client.close()


async def test_error_response_raises_the_typed_device_error():
    host, board = memory_pipe()
    err = Error(ErrorCode.ARENA_TOO_SMALL, 150_000, "model needs 150000 B, arena is 100000 B")
    Scripted(board, hello_then(lambda seq, msg: encode_error(err, msg.TYPE, seq)))
    client = await BoardClient.connect(host, name="bench-1")
    with pytest.raises(ModelRejected) as info:
        await client.request(ModelCommit(1))
    assert info.value.code == ErrorCode.ARENA_TOO_SMALL and info.value.detail == 150_000
    assert str(info.value) == "bench-1: device error ARENA_TOO_SMALL: model needs 150000 B, arena is 100000 B"
    await client.close()


async def test_board_with_another_protocol_version_is_refused():
    host, board = memory_pipe()
    v2 = dataclasses.replace(INFO, proto_version=2)
    Scripted(board, lambda seq, msg: encode_message(v2, seq))
    with pytest.raises(UnsupportedVersion, match="protocol v2, this fleet speaks v1"):
        await BoardClient.connect(host)


async def test_board_vanishing_mid_request_fails_it_at_once():
    host, board = memory_pipe()

    def answer(seq, msg):
        asyncio.get_running_loop().create_task(board.close())
        return None

    Scripted(board, hello_then(answer))
    client = await BoardClient.connect(host, timeout=5, retries=0)
    sub = client.subscribe()
    with pytest.raises(PortVanished):
        await asyncio.wait_for(client.ping(), 1.0)
    assert [e async for e in sub] == []  # the subscription ends too
    assert not client.connected
    with pytest.raises(PortVanished):
        await client.ping()
    await client.close()


async def test_event_gaps_are_counted_and_slow_subscribers_drop_visibly():
    client, board = await board_answering_hello_only()
    slow = client.subscribe(maxsize=2)
    fast = client.subscribe(maxsize=100)
    # Event seqs 0, 1, 2, then 5: two events lost on the wire.
    for seq in (0, 1, 2, 5):
        await board.write(encode_message(Log(seq, 1, f"line {seq}"), seq))
    got = [await fast.get() for _ in range(4)]
    assert [e.text for e in got] == ["line 0", "line 1", "line 2", "line 5"]
    assert client.stats.events_lost == 2
    assert slow.dropped == 2 and client.stats.events_dropped == 2
    assert [(await slow.get()).text for _ in range(2)] == ["line 0", "line 1"]
    await client.close()


async def test_listeners_see_each_event_in_the_reader_and_wait_closed_says_why():
    client, board = await board_answering_hello_only()
    heard, sub = [], client.subscribe()
    remove = client.add_listener(lambda msg: heard.append((msg.text, sub.queue.qsize())))
    for seq in (0, 1):
        await board.write(encode_message(Log(seq, 1, f"line {seq}"), seq))
    assert (await sub.get()).text == "line 0"
    # Called as each event is decoded, before the subscribers' queues get it (line 1's
    # listener call sees only line 0 queued).
    assert heard == [("line 0", 0), ("line 1", 1)]
    remove()
    await board.write(encode_message(Log(2, 1, "line 2"), 2))
    assert [(await sub.get()).text for _ in range(2)] == ["line 1", "line 2"]
    assert len(heard) == 2
    await board.close()
    why = await asyncio.wait_for(client.wait_closed(), 1.0)
    assert isinstance(why, PortVanished) and "closed" in str(why)
    await client.close()


async def test_a_failing_listener_ends_the_connection_with_the_reason():
    client, board = await board_answering_hello_only()

    def broken(msg):
        raise ValueError("cannot fold this")

    client.add_listener(broken)
    await board.write(encode_message(Log(0, 1, "line 0"), 0))
    why = await asyncio.wait_for(client.wait_closed(), 1.0)
    assert isinstance(why, PortVanished) and "cannot fold this" in str(why)
    assert not client.connected
    await client.close()


async def test_runtime_is_not_asked_of_a_board_without_the_capability():
    host, board = memory_pipe()
    dev = Scripted(board, hello_then(lambda seq, msg: None))
    client = await BoardClient.connect(host, timeout=0.05, retries=0)
    assert await client.runtime() is None
    assert [type(msg).__name__ for _, msg in dev.requests] == ["Hello"]
    await client.close()


async def test_runtime_returns_what_the_board_declares():
    answer = RuntimeInfo("tflm 90b983c cmsis-nn", (3, 4), ("SignalWindow",))
    info = dataclasses.replace(INFO, capabilities=INFO.capabilities | Capability.RUNTIME)

    def respond(seq, msg):
        return encode_message(info if msg.TYPE == MsgType.HELLO else answer, seq)

    host, board = memory_pipe()
    Scripted(board, respond)
    client = await BoardClient.connect(host)
    assert await client.runtime() == answer
    await client.close()


async def test_a_malformed_answer_fails_its_request_at_once_naming_the_fault():
    info = dataclasses.replace(INFO, capabilities=INFO.capabilities | Capability.RUNTIME)
    repeated = b"\x00\x02\x00\x09\x00\x09\x00\x00"  # FULLY_CONNECTED twice

    def respond(seq, msg):
        if msg.TYPE == MsgType.HELLO:
            return encode_message(info, seq)
        return encode_frame(MsgType.RUNTIME, seq, Flags.RESPONSE, repeated)

    host, board = memory_pipe()
    Scripted(board, respond)
    client = await BoardClient.connect(host, timeout=5.0)
    with pytest.raises(MalformedMessage, match="refused: RuntimeInfo: builtin operator code 9 is listed twice"):
        await client.runtime()
    assert client.stats.timeouts == 0
    await client.close()


class FedHost(MemoryTransport):
    """A host end whose bytes can also be handed to the client at once, as a serial port's
    reader callback does (`feed_to`): a response resolves its request within the caller's step."""

    def feed_to(self, receiver):
        self.deliver = receiver


async def test_a_request_cancelled_as_its_answer_arrives_ends_cancelled():
    """Before: `asyncio.wait_for` (Python 3.11) returned the answer and dropped the
    cancellation when both came in one loop step, so a `BoardSession` stopped then served
    on and `FleetManager.stop()` waited for it forever (seen with a meter attached)."""
    host, board = FedHost("mem:host"), MemoryTransport("mem:board")
    host._peer, board._peer = board, host
    dev = Scripted(board, hello_then(lambda seq, msg: None))
    client = await BoardClient.connect(host, timeout=60)
    asking = asyncio.get_running_loop().create_task(client.ping())
    while not any(isinstance(msg, Ping) for _, msg in dev.requests):
        await asyncio.sleep(0)
    seq, ping = next((seq, msg) for seq, msg in dev.requests if isinstance(msg, Ping))
    host.deliver(encode_message(Pong(1234, ping.data), seq))  # the answer resolves the request...
    asking.cancel()  # ...and the stop comes in the same step
    with pytest.raises(asyncio.CancelledError):
        await asking
    await client.close()


async def test_a_close_that_is_cancelled_ends_cancelled_and_still_closes_the_port():
    """Before: the close swallowed its own cancellation while it waited for the reader."""
    client, board = await board_answering_hello_only()
    closing = asyncio.get_running_loop().create_task(client.close())
    await asyncio.sleep(0)  # the close waits for the reader to end
    closing.cancel()
    await asyncio.wait({closing})
    assert closing.cancelled()
    assert client.transport._closed and not client.connected
    with pytest.raises(PortVanished):
        await board.write(b"\x00")  # the other end sees the port closed


async def test_the_transport_reads_at_once_while_an_answer_is_awaited():
    # A transport that reads in shared passes (fleet.transport.poller) is told while any
    # request is pending, so a round trip never waits for the next pass.
    host, board = memory_pipe()
    held: list[int] = []  # the seqs of PINGs the board holds back
    Scripted(board, hello_then(lambda seq, msg: held.append(seq)))
    calls: list[bool] = []
    host.awaiting_answer = calls.append
    client = await BoardClient.connect(host)
    assert calls == [True, False]  # HELLO: on while awaited, off once answered
    first, second = await client.send(Ping(b"1")), await client.send(Ping(b"2"))
    while len(held) < 2:
        await asyncio.sleep(0)
    assert calls == [True, False, True]  # once for both pipelined requests
    await board.write(encode_message(Pong(1, b"1"), held[0]))
    await first
    assert calls == [True, False, True]  # the second is still awaited
    await board.write(encode_message(Pong(2, b"2"), held[1]))
    await second
    assert calls == [True, False, True, False]
    third = await client.send(Ping(b"3"))
    await board.close()  # the board vanishes: pending requests fail, and nothing is awaited
    with pytest.raises(PortVanished):
        await third
    assert calls[-1] is False
