"""Framing edge cases the stream decoder must survive without raising."""

import random
import zlib

import pytest
from cobs import cobs

from fleet.errors import BadCRC, FrameTooLong, MalformedFrame
from fleet.protocol import FrameDecoder, Header, Ping, decode_frame, encode_frame, encode_message
from fleet.protocol.framing import CRC_RESIDUE, max_encoded_size


def test_crc_is_ieee_crc32():
    assert zlib.crc32(b"123456789") == 0xCBF43926  # the check value PROTOCOL.md cites


def test_header_is_8_bytes_little_endian():
    assert Header(type=0x11, seq=0x1234, flags=1, length=0x0506).pack() == bytes([1, 0x11, 1, 0, 0x34, 0x12, 0x06, 0x05])


def test_decoder_resynchronises_after_garbage_without_delimiter():
    decoder = FrameDecoder()
    good = encode_message(Ping(b"x"), 7)
    frames = decoder.feed(b"\x13\x37garbage" + b"\x00" + good)
    assert [f.header.seq for f in frames] == [7]
    assert decoder.stats.malformed + decoder.stats.bad_crc == 1


def test_consecutive_delimiters_are_idle_not_errors():
    decoder = FrameDecoder()
    frames = decoder.feed(b"\x00\x00\x00" + encode_message(Ping(), 1) + b"\x00\x00")
    assert len(frames) == 1
    assert decoder.stats.errors == 0


def test_oversize_frame_is_dropped_early_and_the_next_frame_survives():
    decoder = FrameDecoder(max_payload=16)
    big = encode_message(Ping(bytes(range(1, 200))), 1)
    # Feed in small pieces: the decoder must give up on the big frame before it ends.
    frames = []
    for i in range(0, len(big), 10):
        frames += decoder.feed(big[i : i + 10])
        assert len(decoder._buf) <= max_encoded_size(16)
    frames += decoder.feed(encode_message(Ping(b"ok"), 2))
    assert [f.header.seq for f in frames] == [2]
    assert decoder.stats.too_long == 1


def test_frame_exactly_at_the_limit_is_accepted():
    decoder = FrameDecoder(max_payload=100)
    (frame,) = decoder.feed(encode_message(Ping(bytes(100)), 3))
    assert len(frame.payload) == 100


def test_decode_frame_raises_typed_errors():
    good = encode_message(Ping(b"abc"), 1)[:-1]
    body = bytearray(cobs.decode(good))
    body[-1] ^= 0xFF
    with pytest.raises(BadCRC):
        decode_frame(cobs.encode(bytes(body)))
    with pytest.raises(MalformedFrame):
        decode_frame(b"\x05\x01")
    with pytest.raises(FrameTooLong):
        decode_frame(good, max_payload=1)


def test_encode_refuses_payloads_beyond_the_u16_length():
    with pytest.raises(FrameTooLong):
        encode_frame(0x02, 1, 0, bytes(0x10000))


def test_reset_drops_a_partial_frame():
    decoder = FrameDecoder()
    wire = encode_message(Ping(b"abc"), 1)
    decoder.feed(wire[:5])
    decoder.reset()
    assert decoder.feed(wire[5:]) == []
    assert decoder.feed(wire) != []


def test_the_crc_residue_holds_for_any_body_and_only_with_its_own_crc():
    # decode_body checks a frame's CRC-32 with one pass over the body and its CRC (the residue).
    rng = random.Random(7)
    for n in range(0, 300, 7):
        data = rng.randbytes(n)
        crc = zlib.crc32(data)
        assert zlib.crc32(data + crc.to_bytes(4, "little")) == CRC_RESIDUE
        assert zlib.crc32(data + (crc ^ (1 << rng.randrange(32))).to_bytes(4, "little")) != CRC_RESIDUE
