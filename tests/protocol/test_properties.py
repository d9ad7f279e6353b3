"""Property tests: every message survives encode -> frame -> stream -> decode, and the
stream decoder's output does not depend on how the bytes were chunked."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.protocol import Error, FrameDecoder, MsgType, decode_message, encode_error, encode_message
from fleet.protocol import messages as m

from .strategies import MESSAGES, any_message


def wire(msg: m.Message, seq: int) -> bytes:
    if isinstance(msg, Error):
        return encode_error(msg, MsgType.MODEL_COMMIT, seq)
    return encode_message(msg, seq)


def test_every_message_class_has_a_strategy():
    defined = {*m.REQUESTS.values(), *m.RESPONSES.values(), *m.EVENTS.values(), Error}
    assert defined == set(MESSAGES)


@pytest.mark.parametrize("cls", list(MESSAGES), ids=lambda c: c.__name__)
def test_roundtrip(cls):
    @settings(max_examples=150, deadline=None)
    @given(MESSAGES[cls], st.integers(0, 0xFFFF))
    def check(msg, seq):
        assert type(msg).decode(msg.encode()) == msg
        (frame,) = FrameDecoder(max_payload=0xFFFF).feed(wire(msg, seq))
        assert frame.header.seq == seq
        assert decode_message(frame) == msg

    check()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(any_message, min_size=1, max_size=8),
    st.lists(st.binary(max_size=40), max_size=8),
    st.data(),
)
def test_chunking_does_not_change_the_frames(msgs, garbage, data):
    parts = []
    for i, msg in enumerate(msgs):
        if i < len(garbage):
            parts.append(garbage[i] + b"\x00")  # garbage ends at a delimiter, like line noise
        parts.append(wire(msg, i))
    stream = b"".join(parts)

    whole = FrameDecoder(max_payload=0xFFFF)
    expected = whole.feed(stream)

    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=20)))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)])]
    chunked = FrameDecoder(max_payload=0xFFFF)
    got = [f for piece in pieces for f in chunked.feed(piece)]

    assert got == expected
    assert chunked.stats == whole.stats
    # Every message is recovered, whatever the garbage was.
    decoded = [decode_message(f) for f in got if f.header.seq < len(msgs) and f.header.version == 1]
    for msg in msgs:
        assert msg in decoded
