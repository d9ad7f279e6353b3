"""A stream sink (`BoardClient.add_stream_sink`) sees what listeners would have seen, and the
link's counters stay exact: the same events in the same order, the same gaps in the event
sequence, the same frames counted bad, the same refusal of a board that breaks a layout."""

import random
import zlib

import pytest
from cobs import cobs

from fleet.client import BoardClient
from fleet.errors import BoardRefused
from fleet.protocol import Boot, InferResult, Log, Message, Power, encode_frame, encode_message
from fleet.protocol.framing import DELIMITER
from fleet.protocol.stream import stream_message
from fleet.transport.memory import memory_pipe


def _event(rng: random.Random) -> Message:
    kind = rng.randrange(10)
    t = rng.randrange(1 << 40)
    if kind < 5:
        return InferResult(t, 800, rng.randrange(1000), 3, b"abcd", 9, rng.randrange(2), 0.5, -1, rng.randbytes(4))
    if kind < 8:
        return Power(t, 3300, rng.randrange(20_000), rng.randrange(1 << 30))
    if kind < 9:
        return Log(t, rng.randrange(4), "a line")
    return Boot(rng.randrange(4), rng.randrange(100))


def _wire(rng: random.Random, frames: int) -> bytes:
    """Events with gaps in their sequence, among frames a client counts and ignores."""
    out, seq = [], 0
    for _ in range(frames):
        seq = (seq + (1 if rng.random() < 0.9 else rng.randrange(2, 40))) & 0xFFFF
        wire = encode_message(_event(rng), seq)
        noise = rng.randrange(12)
        if noise == 0:  # a bad CRC
            body = bytearray(cobs.decode(wire[:-1]))
            body[-1] ^= 0x55
            wire = cobs.encode(bytes(body)) + DELIMITER
        elif noise == 1:  # a type v1 does not define: counted, ignored
            wire = encode_frame(0x7E, seq, 0, b"??")
        elif noise == 2:  # garbage between frames
            wire = rng.randbytes(rng.randrange(1, 20)).replace(b"\x00", b"\x01") + DELIMITER + wire
        out.append(wire)
    return b"".join(out)


def _chunks(rng: random.Random, data: bytes) -> list[bytes]:
    chunks, i = [], 0
    while i < len(data):
        n = rng.choice((1, 7, 40, 300, 2000))
        chunks.append(data[i : i + n])
        i += n
    return chunks


def _clients() -> tuple[BoardClient, BoardClient, list, list, list, list]:
    plain, fast = BoardClient(memory_pipe("a")[0]), BoardClient(memory_pipe("b")[0])
    heard_plain: list[Message] = []
    heard_fast: list[Message] = []
    plain.add_listener(heard_plain.append)
    fast.add_listener(heard_fast.append)
    fast.add_stream_sink(lambda records: heard_fast.extend(stream_message(r) for r in records))
    return plain, fast, heard_plain, heard_fast, [plain.subscribe(100_000)], [fast.subscribe(100_000)]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_a_stream_sink_sees_what_a_listener_sees_and_the_counters_agree(seed):
    rng = random.Random(seed)
    chunks = _chunks(rng, _wire(rng, 3000))
    plain, fast, heard_plain, heard_fast, (sub_plain,), (sub_fast,) = _clients()
    for chunk in chunks:
        plain._receive(chunk)
        fast._receive(chunk)
    assert len(heard_plain) > 2000
    assert [repr(m) for m in heard_fast] == [repr(m) for m in heard_plain]
    assert plain.stats == fast.stats and plain.stats.events_lost > 0 and plain.stats.bad_crc > 0
    assert plain.boots == fast.boots
    # Subscribers still get every event as a message.
    assert sub_fast.queue.qsize() == sub_plain.queue.qsize() == len(heard_plain)
    assert [repr(sub_fast.queue.get_nowait()) for _ in heard_plain] == [repr(m) for m in heard_plain]


async def test_a_result_breaking_a_limit_refuses_the_board_on_both_paths_after_the_events_before_it():
    good = encode_message(Power(1, 3300, 10, 5), 1) + encode_message(InferResult(2, 1, 1, 1, b"abcd", 9, 0, 1.0, 0, b"x"), 2)
    bad = bytearray(cobs.decode(encode_message(InferResult(3, 1, 2, 1, b"abcd", 9, 0, 1.0, 0, b"x"), 3)[:-1]))
    bad[8 + 25] = 5  # format beyond TOPK
    bad[-4:] = zlib.crc32(bytes(bad[:-4])).to_bytes(4, "little")
    wire = good + cobs.encode(bytes(bad)) + DELIMITER + encode_message(Power(4, 3300, 10, 6), 4)
    plain, fast, heard_plain, heard_fast, _, _ = _clients()
    for client in (plain, fast):
        with pytest.raises(BoardRefused, match="format"):
            client._receive(wire)
    assert [repr(m) for m in heard_fast] == [repr(m) for m in heard_plain] and len(heard_plain) == 2
    assert plain.stats == fast.stats and plain.stats.malformed == 1


async def test_events_read_after_the_last_sink_went_reach_the_listeners():
    client = BoardClient(memory_pipe("c")[0])
    heard: list[Message] = []
    sunk: list = []
    client.add_listener(heard.append)

    def once(records):
        sunk.extend(records)
        remove()  # during the read: the rest of it was decoded on the fast path already

    remove = client.add_stream_sink(once)
    client._receive(encode_message(Power(1, 3300, 10, 5), 1) + encode_message(Log(2, 1, "x"), 2)
                    + encode_message(Power(3, 3300, 10, 6), 4))  # fmt: skip
    assert [r[1] for r in sunk] == [1]
    assert [(type(m), m.device_time_us) for m in heard] == [(Log, 2), (Power, 3)]
    assert client.stats.events == 3 and client.stats.events_lost == 1
    client._receive(encode_message(Power(5, 3300, 10, 7), 5))
    assert [type(m) for m in heard] == [Log, Power, Power]
