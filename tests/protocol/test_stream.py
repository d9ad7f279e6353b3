"""The streamed events' fast path (`fleet.protocol.stream`) gives what the general decoding
gives, on valid frames and on every kind of corrupted one: it never accepts a frame the
general path refuses, and never refuses one the general path accepts."""

import random
import struct
import zlib
from dataclasses import dataclass

import pytest
from cobs import cobs

from fleet.errors import ProtocolError
from fleet.protocol import (
    Boot, Frame, FrameDecoder, InferResult, Log, Message, MsgType, Ping, Pong, Power, decode_message, encode_frame,
    encode_message,
)  # fmt: skip
from fleet.protocol.framing import CRC_SIZE, DELIMITER
from fleet.protocol.header import HEADER
from fleet.protocol.stream import STREAM_UNPACKERS, body_unpacker, stream_message
from fleet.protocol.values import Kind
from fleet.protocol.wire import u8

SEED_FRAMES = 4000


def _valid(rng: random.Random, seq: int) -> bytes:
    kind = rng.randrange(4)
    t = rng.randrange(1 << 64)
    if kind == 0:
        data = bytes(rng.randrange(256) for _ in range(rng.choice((0, 1, 4, 10, 33))))
        msg: Message = InferResult(t, rng.randrange(1 << 32), rng.randrange(1 << 32), rng.randrange(1 << 32),
                                   rng.randbytes(4), rng.choice((0, 3, 9, 99)), rng.randrange(2),
                                   rng.choice((0.0, 1 / 256, 0.5, float("inf"))), rng.randrange(-(1 << 31), 1 << 31),
                                   data)  # fmt: skip
    elif kind == 1:
        msg = Power(t, rng.randrange(1 << 16), rng.randrange(1 << 32), rng.randrange(1 << 64))
    elif kind == 2:
        msg = Log(t, rng.randrange(4), "line")
    else:
        msg = Boot(rng.randrange(4), rng.randrange(1 << 32))
    return encode_message(msg, seq)


def _reframe(body: bytes) -> bytes:
    """A body with a fresh CRC (the corruption must get past the CRC to test decoding)."""
    body = body[:-CRC_SIZE]
    return cobs.encode(body + zlib.crc32(body).to_bytes(CRC_SIZE, "little")) + DELIMITER


def _corrupt(rng: random.Random, wire: bytes) -> bytes:
    body = bytearray(cobs.decode(wire[:-1]))
    what = rng.randrange(9)
    if what == 0:  # a payload byte flipped
        if len(body) > 12:
            body[8 + rng.randrange(len(body) - 12)] ^= 1 << rng.randrange(8)
    elif what == 1:  # payload shortened, length kept honest
        cut = rng.randrange(1, 12)
        body = body[: max(8, len(body) - 4 - cut)] + body[-4:]
        body[6:8] = (len(body) - 12).to_bytes(2, "little")
    elif what == 2:  # payload lengthened
        body = body[:-4] + rng.randbytes(rng.randrange(1, 6)) + body[-4:]
        body[6:8] = (len(body) - 12).to_bytes(2, "little")
    elif what == 3:  # another version
        body[0] = rng.choice((0, 2, 255))
    elif what == 4:  # response or error flags
        body[2] = rng.choice((1, 2, 3, 0x80))
    elif what == 5:  # another type
        body[1] = rng.choice((0x20, 0x21, 0x22, 0x23, 0x24, 0x02, 0x7F))
    elif what == 6:  # the header's length lies
        body[6] ^= 1
    elif what == 7:  # an INFER_RESULT's format beyond TOPK
        if body[1] == MsgType.INFER_RESULT and len(body) >= 12 + 26:
            body[8 + 25] = rng.choice((2, 7, 255))
    else:  # the CRC itself is wrong
        body[-1] ^= 0xFF
        return cobs.encode(bytes(body)) + DELIMITER
    return _reframe(bytes(body))


def _stream(rng: random.Random) -> bytes:
    out = []
    for seq in range(1, SEED_FRAMES + 1):
        wire = _valid(rng, seq)
        out.append(_corrupt(rng, wire) if rng.random() < 0.5 else wire)
    return b"".join(out)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_fast_path_accepts_exactly_what_the_general_decoding_accepts(seed):
    data = _stream(random.Random(seed))
    general, fast = FrameDecoder(), FrameDecoder()
    fast.stream = STREAM_UNPACKERS
    frames, items = general.feed(data), fast.feed(data)
    assert len(frames) == len(items) and general.stats == fast.stats
    taken = refused = 0
    for frame, item in zip(frames, items, strict=True):
        try:
            msg = decode_message(frame)
        except ProtocolError:
            msg = None
        fast_path = frame.header.type in STREAM_UNPACKERS and frame.header.version == 1 and not frame.header.is_response
        if item.__class__ is Frame:
            assert item == frame
            # Refused by the fast path: only what the general decoding refuses too.
            assert not (fast_path and msg is not None), frame
            refused += fast_path
        else:
            assert fast_path and msg is not None, frame
            type_, seq, values = item
            assert (type_, seq) == (frame.header.type, frame.header.seq)
            assert _same(values, msg.values())
            assert _same(stream_message(item).values(), msg.values()) and type(stream_message(item)) is type(msg)
            taken += 1
    assert taken > 1000 and refused > 100  # both sides of the path were exercised


def _same(a: tuple, b: tuple) -> bool:
    return repr(a) == repr(b)  # NaN-safe, and bytes against bytes


def test_a_result_beyond_a_limit_goes_to_the_general_path_which_refuses_it():
    body = bytearray(cobs.decode(encode_message(InferResult(1, 2, 3, 4, b"abcd", 9, 1, 1.0, 0, b"\x01\x02\x03"), 5)[:-1]))
    body[8 + 25] = 2  # format: TOPK (1) is the largest
    decoder = FrameDecoder()
    decoder.stream = STREAM_UNPACKERS
    (item,) = decoder.feed(_reframe(bytes(body)))
    assert item.__class__ is Frame
    with pytest.raises(ProtocolError, match="format"):
        decode_message(item)


def test_every_stream_unpacker_checks_its_class_limits():
    # A limit added to a streamed class must reach its fast path (one table for both).
    for type_, unpack in STREAM_UNPACKERS.items():
        cls = {int(InferResult.TYPE): InferResult, int(Power.TYPE): Power}[type_]
        source_limits = {name for name, _limit, _what in cls.LIMITS}
        assert source_limits <= set(cls.WIRE.names)
        for name, limit, _what in cls.LIMITS:
            index = cls.WIRE.names.index(name)
            values = list(_sample(cls).values())
            values[index] = limit + 1
            body = cobs.decode(encode_frame(cls.TYPE, 1, 0, cls.WIRE.head.pack(*values[: len(cls.WIRE.fields) - len(cls.WIRE.tail)])
                                            + (b"" if not cls.WIRE.tail else b"xy"))[:-1])
            assert unpack(body) is None, (cls.__name__, name)


def _sample(cls: type[Message]) -> Message:
    return InferResult(1, 2, 3, 4, b"abcd", 9, 0, 1.0, 0, b"xy") if cls is InferResult else Power(1, 2, 3, 4)


@dataclass(frozen=True, slots=True)
class _Checked(Message):
    TYPE = MsgType.LOG
    KIND = Kind.EVENT
    level: u8

    def _validate(self) -> None:
        pass


def test_no_fast_path_for_a_class_with_checks_outside_the_table():
    with pytest.raises(TypeError, match="checks more than its LIMITS"):
        body_unpacker(_Checked)
    with pytest.raises(TypeError, match="only fixed fields and trailing raw bytes"):
        body_unpacker(Log)  # its text must be made printable: the general path's job
    with pytest.raises(TypeError, match="not an event"):
        body_unpacker(Pong)


def test_without_a_stream_table_the_decoder_gives_frames_only():
    decoder = FrameDecoder()
    items = decoder.feed(encode_message(Power(1, 2, 3, 4), 1) + encode_message(Ping(), 2))
    assert all(item.__class__ is Frame for item in items) and len(items) == 2
    assert HEADER.size == 8 and struct.calcsize("<B") == 1
