"""The POSIX port on a PTY, driven over pyserial like a board: handshake, ping, top-k
results, go-back-N after a lost chunk, and every refusal the upload path can give. What
every kind of board must do (deploy, resume, rollback, reboot, power cycle) is in
tests/behaviour, run on this port among others."""

from __future__ import annotations

import hashlib

import pytest

from fleet.protocol import (
    ActivateMode, Boot, BootReason, Capability, ErrorCode, InferResult, Log, LogLevel, ModelActivate, ModelBegin,
    ModelChunk, ModelCommit, Ping, Power, Runtime, RuntimeInfo, SlotState, Stream, StreamConfig,
)  # fmt: skip
from tests.support.board_link import BoardError, deploy, tflm_outputs
from tests.firmware.models import gesture, sine

NO_SLOT = 0xFF


def test_boot_event_and_handshake(link):
    boot = link.take_events(Boot, 1)[0]
    assert boot.reason == BootReason.POWER_ON and boot.boot_count == 1
    info = link.hello()
    assert info.proto_version == 1 and info.active_slot == NO_SLOT
    assert info.uid == bytes.fromhex("f1ee7001") and info.board_kind == "posix"
    assert info.firmware_version.startswith("fleet-fw")
    assert info.capabilities == 0xFF and info.max_payload >= 512 and info.rx_window >= info.max_payload
    assert [s.state for s in info.slots] == [SlotState.EMPTY, SlotState.EMPTY]


def test_ping_echoes_with_a_monotonic_clock(link):
    info = link.hello()
    first = link.request(Ping(b"fleet"))
    assert first.data == b"fleet"
    big = bytes(range(256)) * ((info.max_payload - 8) // 256) + b"x" * ((info.max_payload - 8) % 256)
    second = link.request(Ping(big))
    assert second.data == big and second.device_time_us > first.device_time_us
    with pytest.raises(BoardError) as err:
        link.request(Ping(big + b"!"))
    assert err.value.code == ErrorCode.BAD_PAYLOAD


def test_garbage_on_the_line_is_dropped(link):
    link.port.write(b"\x13\x37" * 500 + b"\x00" + b"\x05\x01\x02\x00")
    assert link.request(Ping(b"still here")).data == b"still here"


def test_top_k_results(link):
    model = sine()
    deploy(link, model, 0)
    link.request(StreamConfig(Stream.RESULTS, LogLevel.INFO, 0, 100, 1))
    r = link.take_events(InferResult, 5)[-1]
    assert r.format == 1 and r.data[:2] == b"\x00\x00"
    assert r.data[2:] == tflm_outputs(model, [r.input_id])[r.input_id]


def test_lost_chunk_go_back_n(link):
    """A chunk lost on the way: later chunks are dropped and ACKs stop advancing until
    the host resends from next_offset."""
    model = sine()
    link.request(ModelBegin(0, len(model), hashlib.sha256(model).digest(), "hw", "1"))
    assert link.request(ModelChunk(0, model[:1000])).next_offset == 1000
    # The chunk at 1000 is "lost"; the next two arrive after the gap.
    assert link.request(ModelChunk(2000, model[2000:2500])).next_offset == 1000
    assert link.request(ModelChunk(0, model[:1000])).next_offset == 1000  # a duplicate
    assert link.send_chunks(model, 1000, 1000, 4096) == len(model)
    assert link.request(ModelCommit(0)).arena_used > 0


def test_the_running_slot_is_never_written(link):
    model = sine()
    deploy(link, model, 0)
    with pytest.raises(BoardError) as err:
        link.request(ModelBegin(0, len(model), hashlib.sha256(model).digest(), "x", "1"))
    assert err.value.code == ErrorCode.BAD_SLOT


def test_wrong_hash_is_refused_and_erased(link):
    model = sine()
    info = link.hello()
    link.request(ModelBegin(1, len(model), hashlib.sha256(b"another model").digest(), "x", "1"))
    link.send_chunks(model, 0, 1020, info.rx_window)
    with pytest.raises(BoardError) as err:
        link.request(ModelCommit(1))
    assert err.value.code == ErrorCode.HASH_MISMATCH
    assert link.hello().slots[1].state == SlotState.EMPTY


def test_unsupported_op_is_named(link):
    with pytest.raises(BoardError) as err:
        link.upload(gesture(), 0)
    assert err.value.code == ErrorCode.OP_UNSUPPORTED and err.value.text == "RESHAPE"
    with pytest.raises(BoardError) as err:
        link.request(ModelActivate(0, ActivateMode.TEST))
    assert err.value.code == ErrorCode.NOT_VERIFIED


def test_too_large_model_is_refused(link):
    info = link.hello()
    model = sine().ljust(info.slot_bytes + 1, b"\0")  # one byte more than a slot holds
    with pytest.raises(BoardError) as err:
        link.request(ModelBegin(0, len(model), hashlib.sha256(model).digest(), "big", "1"))
    assert err.value.code == ErrorCode.TOO_LARGE and err.value.detail == info.slot_bytes


def test_power_and_log_streams(link):
    link.request(StreamConfig(Stream.POWER | Stream.LOG, LogLevel.INFO, 0, 20, 0))
    samples = link.take_events(Power, 10)
    assert all(s.voltage_mv == 3300 for s in samples)
    assert samples[-1].energy_uj > samples[0].energy_uj
    assert samples[-1].device_time_us - samples[0].device_time_us >= 9 * 20_000 * 0.9
    link.upload(sine(), 0)
    log = link.take_events(Log, 1)[0]
    assert log.level == LogLevel.INFO and log.text == "model verified"


def test_runtime_answers_the_runner_op_list(link):
    info = link.hello()
    assert info.capabilities & Capability.RUNTIME
    runtime = link.request(Runtime())
    assert isinstance(runtime, RuntimeInfo)
    assert 9 in runtime.builtins  # FULLY_CONNECTED, which every runner of ours has
    if runtime.runtime.startswith("fleet-ref"):  # the reference runner: that and nothing else
        assert (runtime.builtins, runtime.customs) == ((9,), ())  # "fleet-ref <FW_REF_RUNNER_VERSION>"


def test_answers_are_whole_while_the_log_stream_is_on(link):
    # COMMIT and ACTIVATE log a line; it used to be encoded in the transmit buffer before the
    # answer waiting there was sent, so the answer's first bytes were the LOG's timestamp.
    link.request(StreamConfig(Stream.LOG, LogLevel.INFO, 0, 0, 0))
    arena = link.upload(sine(), 0)
    assert arena > 0
    status = link.request(ModelActivate(0, ActivateMode.PERMANENT))
    assert status.active_slot == 0 and status.slots[0].state == SlotState.ACTIVE
    texts = [log.text for log in link.take_events(Log, 2)]
    assert texts == ["model verified", "slots changed"]
