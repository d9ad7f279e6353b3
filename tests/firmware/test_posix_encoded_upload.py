"""Encoded uploads (PROTOCOL.md section 10) to the C POSIX board (`make posix-ref`): the host
side is fleet.upload_codec's encoder and the protocol messages, driven here step by step
(MODEL_BEGIN, MODEL_STREAM, MODEL_DATA with go-back-N, COMMIT); the board decodes into its
slot with firmware/core/fw_inflate.c. Each test ends with the slot's sha256 as INFO reports it
and the model's results, or with the model that ran before still running."""

from __future__ import annotations

import hashlib

import pytest

from fleet.protocol import (
    ActivateMode, Capability, ErrorCode, LogLevel, ModelActivate, ModelCommit, ModelConfirm, ModelData, ModelStream,
    SlotState, Stream, StreamConfig,
)  # fmt: skip
from fleet.upload_codec import encode
from tests.support.board_link import BoardError, BoardLink, check_results, deploy
from tests.support.hosts import open_stream, send_stream
from tests.firmware.models import sine, variant

NO_SLOT = 0xFF


def verify_running(link: BoardLink, model: bytes, slot: int) -> None:
    """The slot holds `model` (INFO's sha256) and runs it: results equal the host interpreter's."""
    info = link.hello()
    assert info.slots[slot].sha256 == hashlib.sha256(model).digest()
    assert info.active_slot == slot
    link.request(StreamConfig(Stream.RESULTS, LogLevel.INFO, 0, 100, 0))
    check_results(link, model, 5, counts_from_boot=False)
    link.request(StreamConfig(0, LogLevel.INFO, 0, 0, 0))
    link.events.clear()


def test_the_board_offers_deflate_and_delta(link):
    assert link.hello().capabilities & (Capability.DEFLATE | Capability.DELTA) == Capability.DEFLATE | Capability.DELTA


def test_compressed_upload(link):
    model = sine()
    encoded = encode(model, block_output=1024)
    assert open_stream(link.request, model, 0) == 0
    ack = send_stream(link.request, encoded.stream, link.data_piece())
    assert ack.received == len(model)
    assert len(encoded.stream) < len(model) / 1.5  # what crossed the wire
    link.request(ModelCommit(0))
    deploy_status = link.request(ModelActivate(0, ActivateMode.TEST))
    assert deploy_status.slots[0].state == SlotState.PENDING
    link.request(ModelConfirm(0))
    verify_running(link, model, 0)


def test_delta_upload_over_the_running_model(link):
    old, new = sine(), variant(7)
    deploy(link, old, 0)
    encoded = encode(new, 0, old)
    assert open_stream(link.request, new, 1, 0, hashlib.sha256(old).digest()) == 0
    ack = send_stream(link.request, encoded.stream, link.data_piece())
    assert ack.received == len(new)
    assert len(encoded.stream) < len(new) / 2
    link.request(ModelCommit(1))
    link.request(ModelActivate(1, ActivateMode.PERMANENT))
    verify_running(link, new, 1)


def test_delta_base_mismatch_then_compressed(link):
    old, new = sine(), variant(7)
    deploy(link, old, 0)
    with pytest.raises(BoardError) as err:
        open_stream(link.request, new, 1, 0, hashlib.sha256(b"what the host assumed").digest())
    assert err.value.code == ErrorCode.BASE_MISMATCH and err.value.detail == 0
    # The host drops the base and sends the model compressed.
    link.request(ModelStream(1, NO_SLOT, bytes(32)))
    assert send_stream(link.request, encode(new).stream, link.data_piece()).received == len(new)
    link.request(ModelCommit(1))
    link.request(ModelActivate(1, ActivateMode.PERMANENT))
    verify_running(link, new, 1)


def test_resume_after_power_cycle_mid_stream(posix_board):
    model = sine()
    encoded = encode(model, block_output=1024)
    link = posix_board.link()
    open_stream(link.request, model, 0)
    ack = send_stream(link.request, encoded.stream, link.data_piece(), stop_at=len(encoded.stream) * 2 // 3)
    assert 0 < ack.received < len(model)
    assert ack.received == encoded.model_end_below(ack.next_offset)
    link.close()
    posix_board.restart()  # unplugged: RAM and the open stream are gone, the slot file stays
    link = posix_board.link()
    try:
        start = open_stream(link.request, model, 0)
        assert start == ack.received
        rest = encode(model, start, block_output=1024)
        assert send_stream(link.request, rest.stream, link.data_piece()).received == len(model)
        link.request(ModelCommit(0))
        link.request(ModelActivate(0, ActivateMode.PERMANENT))
        verify_running(link, model, 0)
    finally:
        link.close()


def test_decode_error_leaves_the_old_model_running(link):
    old, new = sine(), variant(7)
    deploy(link, old, 0)
    encoded = encode(new, block_output=1024)
    second = encoded.stream_offsets[1]
    corrupt = encoded.stream[:second] + b"\x09" + encoded.stream[second + 1 :]  # block 2: unknown kind
    open_stream(link.request, new, 1)
    with pytest.raises(BoardError) as err:
        send_stream(link.request, corrupt, link.data_piece())
    assert err.value.code == ErrorCode.DECODE_FAILED and err.value.detail == encoded.block_starts[1]
    info = link.hello()
    assert info.slots[1].state == SlotState.RECEIVING and info.slots[1].received == encoded.block_starts[1]
    with pytest.raises(BoardError) as err:
        link.request(ModelData(len(corrupt), b"\x01"))  # the stream is closed
    assert err.value.code == ErrorCode.NO_UPLOAD
    verify_running(link, old, 0)
