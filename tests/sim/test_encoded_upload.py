"""Encoded uploads on a virtual board (PROTOCOL.md section 10), on the engine with a fake clock."""

from __future__ import annotations

import hashlib

import pytest

from fleet.error_codes import ErrorCode
from fleet.errors import DeviceError
from fleet.protocol import (
    NO_SLOT, ActivateMode, Capability, DataAck, Error, Hello, ModelActivate, ModelBegin, ModelChunk, ModelCommit,
    ModelConfirm, ModelData, ModelStream, Reboot, SlotState, StreamAck,
)  # fmt: skip
from fleet.models.variants import retrain_last_layer
from fleet.sim.factory import make_engine
from fleet.upload_codec import EncodedModel, encode
from tests.support.hosts import EngineHost, open_stream, send_stream


# The bytes of the shared model fixtures (tests/support/models.py): every test here feeds them
# to a board's decoder.
@pytest.fixture
def sine(sine) -> bytes:  # noqa: ANN001
    return sine.data


@pytest.fixture
def gesture(gesture) -> bytes:  # noqa: ANN001
    return gesture.data


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


PIECE = 700  # stream bytes per MODEL_DATA


def encoded_upload(host: EngineHost, model: bytes) -> EncodedModel:
    """BEGIN into slot 0 and open a stream without a base; the model encoded in 1 KiB blocks."""
    assert open_stream(host.ok, model) == 0
    return encode(model, block_output=1024)


def install(host: EngineHost, model: bytes, slot: int = 0) -> None:
    """Upload `model` plainly and make it the ACTIVE model of `slot`."""
    host.upload(model, slot)
    host.ok(ModelCommit(slot))
    host.ok(ModelActivate(slot, ActivateMode.TEST))
    host.ok(ModelConfirm(slot))


def test_compressed_upload_commits(host, gesture):
    assert open_stream(host.ok, gesture, name="gesture") == 0
    stream = encode(gesture, block_output=1024).stream
    ack = send_stream(host.ok, stream, PIECE)
    assert ack == DataAck(len(stream), len(gesture))
    assert host.ok(ModelCommit(0)).slot == 0
    assert host.ok(Hello()).slots[0].state == SlotState.VALID


def test_delta_from_the_active_slot(host, sine):
    install(host, sine, 0)
    new = retrain_last_layer(sine)
    open_stream(host.ok, new, 1, 0, sha(sine), name="sine", version="2")
    stream = encode(new, base=sine).stream
    assert len(stream) < len(new) // 10
    send_stream(host.ok, stream, PIECE)
    host.ok(ModelCommit(1))
    assert host.engine.store.read(1) == new


def test_received_moves_to_block_ends_only(host, gesture):
    encoded = encoded_upload(host, gesture)
    second = encoded.stream_offsets[1]
    ack = host.ok(ModelData(0, encoded.stream[: second - 1]))
    assert ack == DataAck(second - 1, 0)
    ack = host.ok(ModelData(second - 1, encoded.stream[second - 1 : second + 5]))
    assert ack == DataAck(second + 5, 1024)
    assert host.ok(Hello()).slots[0].received == 1024


def test_go_back_n_on_stream_offsets(host, gesture):
    stream = encoded_upload(host, gesture).stream
    host.ok(ModelData(0, stream[:500]))
    assert host.ok(ModelData(900, stream[900:1000])) == DataAck(500, 0)  # a gap: dropped
    assert host.ok(ModelData(100, stream[100:500])) == DataAck(500, 0)  # a retransmission: nothing decoded twice
    for offset in range(500, len(stream), 700):
        ack = host.ok(ModelData(offset, stream[offset : offset + 700]))
    assert ack.received == len(gesture)


def test_resume_after_reset_mid_stream(host, gesture):
    """The stream dies with the board's RAM; BEGIN and STREAM resume at the last block end."""
    encoded = encoded_upload(host, gesture)
    send_stream(host.ok, encoded.stream[: encoded.stream_offsets[3] + 10], PIECE)
    host.ok(Reboot(0))
    host.boot()
    with pytest.raises(DeviceError) as lost:
        host.ok(ModelData(0, encoded.stream[:10]))
    assert lost.value.code == ErrorCode.NO_UPLOAD
    assert host.ok(ModelBegin(0, len(gesture), sha(gesture))).offset == 3072
    assert host.ok(ModelStream()) == StreamAck(3072)
    tail = encoded.tail(3072)
    assert tail is not None
    send_stream(host.ok, tail.stream, PIECE)
    host.ok(ModelCommit(0))
    assert host.engine.store.read(0) == gesture


def test_plain_chunks_continue_an_encoded_upload(host, gesture):
    encoded = encoded_upload(host, gesture)
    send_stream(host.ok, encoded.stream[: encoded.stream_offsets[2]], PIECE)
    for offset in range(2048, len(gesture), 1000):
        ack = host.ok(ModelChunk(offset, gesture[offset : offset + 1000]))
    assert ack.next_offset == len(gesture)
    with pytest.raises(DeviceError) as closed:  # the plain chunk closed the stream
        host.ok(ModelData(encoded.stream_offsets[2], encoded.stream[encoded.stream_offsets[2] :][:500]))
    assert closed.value.code == ErrorCode.NO_UPLOAD
    host.ok(ModelCommit(0))


def test_decode_error_closes_the_stream_and_keeps_complete_blocks(host, gesture):
    encoded = encoded_upload(host, gesture)
    bad = bytearray(encoded.stream[: encoded.stream_offsets[1] + 1])
    bad[-1] = 0x09  # the second block's kind
    host.ok(ModelData(0, bytes(bad[:700])))
    response = host.request(ModelData(700, bytes(bad[700:])))
    assert isinstance(response, Error) and response.code == ErrorCode.DECODE_FAILED and response.detail == 1024
    assert host.ok(Hello()).slots[0].received == 1024
    assert host.ok(ModelStream()) == StreamAck(1024)


def test_base_mismatch(host, sine, gesture):
    install(host, sine, 0)
    host.ok(ModelBegin(1, len(gesture), sha(gesture)))
    for request, detail in [
        (ModelStream(1, 0, sha(gesture)), 0),  # slot 0 holds another model
        (ModelStream(1, 1, sha(sine)), 1),  # the receiving slot is no base
    ]:
        response = host.request(request)
        assert isinstance(response, Error) and response.code == ErrorCode.BASE_MISMATCH and response.detail == detail
    assert isinstance(host.request(ModelStream(1, 2, sha(sine))), Error)
    assert host.ok(ModelStream(1, NO_SLOT)) == StreamAck(0)  # without a base it works


def test_copy_needs_a_base(host, sine):
    host.ok(ModelBegin(0, len(sine), sha(sine)))
    host.ok(ModelStream())
    response = host.request(ModelData(0, encode(sine, base=sine).stream))
    assert isinstance(response, Error) and response.code == ErrorCode.DECODE_FAILED


def test_board_without_deflate_answers_unknown_type(tmp_path, clock, sine):
    engine = make_engine("nano33ble", tmp_path / "flash", name="old", clock=clock, capabilities=int(Capability.RESUME))
    host = EngineHost(engine)
    host.boot()
    assert not host.ok(Hello()).capabilities & Capability.DEFLATE
    host.ok(ModelBegin(0, len(sine), sha(sine)))
    for request in (ModelStream(), ModelData(0, b"\x01")):
        response = host.request(request)
        assert isinstance(response, Error) and response.code == ErrorCode.UNKNOWN_TYPE


def test_board_without_delta_refuses_a_base(tmp_path, clock, sine):
    caps = int(Capability.RESUME | Capability.DEFLATE)
    engine = make_engine("nano33ble", tmp_path / "flash", name="nodelta", clock=clock, capabilities=caps)
    host = EngineHost(engine)
    host.boot()
    install(host, sine, 0)
    host.ok(ModelBegin(1, len(sine) + 1, sha(sine + b"!")))
    response = host.request(ModelStream(1, 0, sha(sine)))
    assert isinstance(response, Error) and response.code == ErrorCode.BAD_PAYLOAD
