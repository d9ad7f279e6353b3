"""The POSIX port on a PTY, driven over pyserial like a board: handshake, ping, a full
pipelined deploy of the bundled sine (and of hello_world_int8 where ../shared has it)
with results checked bit for bit against the TFLM interpreter, resume after a disconnect, rollback, reboot and power-cycle behaviour, and
every refusal the upload path can give."""

from __future__ import annotations

import hashlib

import pytest

from fleet.protocol import (
    ActivateMode, Boot, BootReason, ErrorCode, InferResult, Log, LogLevel, ModelActivate, ModelBegin, ModelChunk, ModelCommit,
    Capability, ModelConfirm, ModelRollback, Ping, Power, Reboot, Runtime, RuntimeInfo, SlotState, Stream, StreamConfig,
)  # fmt: skip
from tests.firmware.board_link import BoardError, tflm_outputs
from tests.firmware.models import gesture, hello_world, sine, variant

NO_SLOT = 0xFF


def deploy(link, model: bytes, slot: int, confirm: bool = True):
    link.upload(model, slot)
    status = link.request(ModelActivate(slot, ActivateMode.TEST))
    assert status.active_slot == slot and status.slots[slot].state == SlotState.PENDING
    if confirm:
        status = link.request(ModelConfirm(slot))
        assert status.slots[slot].state == SlotState.ACTIVE
    return status


def check_results(link, model: bytes, count: int = 20) -> list[InferResult]:
    """`count` streamed results, each equal to TFLM's output for the same input id."""
    results = link.take_events(InferResult, count)
    expected = tflm_outputs(model, [r.input_id for r in results])
    for r in results:
        assert r.model_prefix == hashlib.sha256(model).digest()[:4]
        assert r.dtype == 9 and r.format == 0
        assert r.data == expected[r.input_id], f"input {r.input_id}"
        assert r.inference_count == r.input_id + 1
    return results


def test_boot_event_and_handshake(link):
    boot = link.take_events(Boot, 1)[0]
    assert boot.reason == BootReason.POWER_ON and boot.boot_count == 1
    info = link.hello()
    assert info.proto_version == 1 and info.active_slot == NO_SLOT
    assert info.uid == bytes.fromhex("f1ee7001") and info.board_kind == "posix"
    assert info.firmware_version.startswith("fleet-fw")
    assert info.capabilities == 0x3F and info.max_payload >= 512 and info.rx_window >= info.max_payload
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


@pytest.mark.parametrize("name", ["sine", "hello_world"])
def test_deploy_streams_tflm_identical_results(link, name):
    model = sine() if name == "sine" else hello_world()
    arena = link.upload(model, 0, name, "1.0.0")
    assert 0 < arena < 4096
    deploy(link, model, 0)
    applied = link.request(StreamConfig(Stream.RESULTS, LogLevel.INFO, 0, 100, 0))
    assert applied.streams == Stream.RESULTS
    results = check_results(link, model, 300)  # more than 256: the sweep wraps
    assert len({r.input_id for r in results}) == 300
    info = link.hello()
    assert info.active_slot == 0 and info.slots[0].name == name and info.slots[0].version == "1.0.0"


def test_top_k_results(link):
    model = sine()
    deploy(link, model, 0)
    link.request(StreamConfig(Stream.RESULTS, LogLevel.INFO, 0, 100, 1))
    r = link.take_events(InferResult, 5)[-1]
    assert r.format == 1 and r.data[:2] == b"\x00\x00"
    assert r.data[2:] == tflm_outputs(model, [r.input_id])[r.input_id]


def test_resume_after_the_host_disconnects(posix_board):
    model = sine()
    digest = hashlib.sha256(model).digest()
    link = posix_board.link()
    info = link.hello()
    assert link.request(ModelBegin(1, len(model), digest, "hw", "1")).offset == 0
    held = link.send_chunks(model, 0, 500, info.rx_window, stop_at=1500)
    assert held == 1500
    link.close()  # the host goes away mid-upload

    link = posix_board.link()
    begin = link.request(ModelBegin(1, len(model), digest, "hw", "1"))
    assert begin.offset == held  # resumes, nothing erased
    link.send_chunks(model, begin.offset, 1020, info.rx_window)
    assert link.request(ModelCommit(1)).slot == 1
    link.close()


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


def test_resume_survives_a_power_cycle(posix_board):
    model = sine()
    link = posix_board.link()
    link.request(ModelBegin(0, len(model), hashlib.sha256(model).digest(), "hw", "1"))
    link.send_chunks(model, 0, 1000, 4096, stop_at=2000)
    link.close()
    posix_board.restart()
    link = posix_board.link()
    assert link.hello().slots[0].received == 2000
    assert link.upload(model, 0) > 0  # BEGIN resumes at 2000
    link.close()


def test_rollback_returns_to_the_confirmed_model(link):
    old, new = sine(), variant(1)
    deploy(link, old, 0)
    link.request(StreamConfig(Stream.RESULTS, LogLevel.INFO, 0, 100, 0))
    deploy(link, new, 1, confirm=False)
    link.events.clear()
    check_results(link, new, 5)
    status = link.request(ModelRollback())
    assert status.active_slot == 0
    assert status.slots[0].state == SlotState.ACTIVE and status.slots[1].state == SlotState.VALID
    link.events.clear()
    check_results(link, old, 5)


def test_reboot_before_confirm_reverts(link):
    old, new = sine(), variant(2)
    deploy(link, old, 0)
    deploy(link, new, 1, confirm=False)
    link.request(Reboot(0))
    boots = link.take_events(Boot, 2)  # power-on, then the requested reboot
    assert [b.reason for b in boots] == [BootReason.POWER_ON, BootReason.REQUESTED]
    info = link.hello()
    assert info.active_slot == 0
    assert info.slots[0].state == SlotState.ACTIVE and info.slots[1].state == SlotState.VALID
    link.request(StreamConfig(Stream.RESULTS, LogLevel.INFO, 0, 100, 0))  # streams are off after a boot
    check_results(link, old, 5)


def test_power_cycle_keeps_the_confirmed_model(posix_board):
    model = sine()
    link = posix_board.link()
    deploy(link, model, 0)
    link.close()
    posix_board.restart()
    link = posix_board.link()
    boot = link.take_events(Boot, 1)[0]
    assert boot.reason == BootReason.POWER_ON and boot.boot_count == 2
    assert link.hello().active_slot == 0
    link.request(StreamConfig(Stream.RESULTS, LogLevel.INFO, 0, 100, 0))
    check_results(link, model, 5)
    link.close()


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
        assert (runtime.runtime, runtime.builtins, runtime.customs) == ("fleet-ref 1", (9,), ())


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
