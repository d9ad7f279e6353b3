"""Host encoder and matcher: round trips through the decoder, resume points, delta sizes."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.errors import StreamDecodeError
from fleet.models.bundled import bundled_model
from fleet.upload_codec import BlockKind, StreamDecoder, encode
from fleet.upload_codec.matcher import MIN_COPY, find_copies


def _decode(stream: bytes, model_prefix: bytes, size: int, base: bytes | None = None) -> bytes:
    slot = bytearray(model_prefix)
    decoder = StreamDecoder(len(model_prefix), size, model_prefix, lambda _offset, data: slot.extend(data), base)
    decoder.feed(stream)
    assert decoder.complete
    return bytes(slot)


def _model(size: int, seed: int) -> bytes:
    rng = random.Random(seed)  # int8-like weights: small values, some structure for deflate to find
    return bytes(int(rng.gauss(0, 20)) & 0xFF for _ in range(size))


@pytest.mark.parametrize("start", [0, 1, 16384, 20000, 40000])
def test_round_trip_from_any_start(start: int) -> None:
    model = _model(40000, 1)
    encoded = encode(model, start)
    assert encoded.block_starts[0] == start if start < len(model) else encoded.block_starts == ()
    assert _decode(encoded.stream, model[:start], len(model)) == model


def test_tail_resumes_at_block_starts_only() -> None:
    model = _model(40000, 2)
    encoded = encode(model)
    assert encoded.block_starts == (0, 16384, 32768)
    tail = encoded.tail(16384)
    assert tail is not None and tail.start == 16384
    assert _decode(tail.stream, model[:16384], len(model)) == model
    assert encoded.tail(1000) is None


def test_model_end_below_follows_block_ends() -> None:
    encoded = encode(_model(40000, 3))
    first_end = encoded.stream_offsets[1]
    assert encoded.model_end_below(0) == 0
    assert encoded.model_end_below(first_end - 1) == 0
    assert encoded.model_end_below(first_end) == 16384
    assert encoded.model_end_below(len(encoded.stream)) == 40000


def test_delta_of_a_moved_and_patched_model_is_small() -> None:
    base = _model(60000, 4)
    new = bytearray(base[:1000] + b"longer description" + base[1000:])
    new[50000:50100] = bytes(100)
    new = bytes(new)
    encoded = encode(new, base=base, base_sha256=b"\x01" * 32)
    assert BlockKind.COPY in encoded.kinds
    assert len(encoded.stream) < 400
    assert _decode(encoded.stream, b"", len(new), base) == new


def test_matcher_finds_a_tensor_wherever_it_moved() -> None:
    base = _model(20000, 5)
    tensor = base[5000:9000]
    new = _model(3000, 6) + tensor + _model(3000, 7)
    copies = find_copies(new, base)
    assert any(c.target <= 3000 and c.target + c.length >= 7000 and c.source == 5000 - (3000 - c.target) for c in copies)
    assert all(c.length >= MIN_COPY for c in copies)
    assert all(new[c.target : c.target + c.length] == base[c.source : c.source + c.length] for c in copies)


def test_bundled_model_compresses() -> None:
    model = bundled_model("sine").read_bytes()
    encoded = encode(model)
    assert len(encoded.stream) * 2 < len(model)
    assert _decode(encoded.stream, b"", len(model)) == model


@given(st.binary(max_size=300), st.integers(0, 2))
@settings(max_examples=400, deadline=None)
def test_any_stream_decodes_or_fails_cleanly(stream: bytes, start: int) -> None:
    """Whatever bytes arrive, the decoder writes only whole blocks inside [start, size), in
    order, or raises StreamDecodeError naming the block it stopped at."""
    model = _model(600, 9)
    base = _model(500, 10)
    writes: list[tuple[int, int]] = []
    decoder = StreamDecoder(start, len(model), model[:start], lambda offset, data: writes.append((offset, len(data))), base)
    try:
        decoder.feed(stream)
    except StreamDecodeError as exc:
        assert exc.block_start == decoder.received
    pos = start
    for offset, length in writes:
        assert offset == pos and length > 0
        pos += length
    assert pos == decoder.received <= len(model)


@given(st.data())
@settings(max_examples=200, deadline=None)
def test_mutated_streams_decode_or_fail_cleanly(data: st.DataObject) -> None:
    model = _model(3000, 11)
    stream = bytearray(encode(model, base=model[:1500] + bytes(1500), block_output=700).stream)
    for _ in range(data.draw(st.integers(1, 4))):
        stream[data.draw(st.integers(0, len(stream) - 1))] = data.draw(st.integers(0, 255))
    slot = bytearray()
    decoder = StreamDecoder(0, len(model), b"", lambda offset, out: slot.extend(out), model[:1500] + bytes(1500))
    try:
        decoder.feed(bytes(stream))
    except StreamDecodeError:
        pass
    assert len(slot) == decoder.received <= len(model)
