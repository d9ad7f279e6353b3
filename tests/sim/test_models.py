"""COMMIT test-load refusals (not TFLite, unsupported operator, arena too small); the input loop."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import replace

import numpy as np
import pytest

from fleet.error_codes import ErrorCode
from fleet.errors import ModelError
from fleet.profiles import get_profile
from fleet.protocol import Error, Hello, ModelBegin, ModelChunk, ModelCommit, SlotState
from fleet.sim.factory import make_engine, program_model
from fleet.models.inputs import input_stream
from fleet.models.inspect import inspect_model
from fleet.sim.loader import INPUT_LOOP_BYTES, INPUT_LOOP_LENGTH, InputLoop, latency_us
from tests.support.hosts import EngineHost


def commit(host: EngineHost, model: bytes) -> Error:
    host.ok(ModelBegin(0, len(model), hashlib.sha256(model).digest(), "m", "1"))
    host.ok(ModelChunk(0, model[:1000]))
    for offset in range(1000, len(model), 1000):
        host.ok(ModelChunk(offset, model[offset : offset + 1000]))
    return host.request(ModelCommit(0))


def host_for(profile, tmp_path, clock) -> EngineHost:
    host = EngineHost(make_engine(profile, tmp_path / "flash", name="m", clock=clock))
    host.boot()
    return host


def test_not_tflite_is_model_invalid(tmp_path, clock):
    out = commit(host_for("nano33ble", tmp_path, clock), b"this is not a flatbuffer" * 10)
    assert isinstance(out, Error) and out.code == ErrorCode.MODEL_INVALID and out.text


def test_unsupported_op_is_named(tmp_path, clock, sine):
    profile = get_profile("nano33ble").model_copy(update={"ops": frozenset({"CONV_2D"})})
    host = host_for(profile, tmp_path, clock)
    out = commit(host, sine.data)
    assert isinstance(out, Error) and out.code == ErrorCode.OP_UNSUPPORTED and out.text == "FULLY_CONNECTED"
    assert host.ok(Hello()).slots[0].state == SlotState.RECEIVING  # complete, but not VALID


def test_arena_too_small_reports_bytes_needed(tmp_path, clock, sine):
    from fleet.models.arena import measure_arena

    profile = get_profile("nano33ble").model_copy(update={"arena_bytes": 1024})
    out = commit(host_for(profile, tmp_path, clock), sine.data)
    assert isinstance(out, Error) and out.code == ErrorCode.ARENA_TOO_SMALL
    assert out.detail == measure_arena(sine.data) == 2192  # measured


def test_program_model_refuses_what_the_board_cannot_run(tmp_path, clock, sine):
    profile = get_profile("pico").model_copy(update={"arena_bytes": 512})
    engine = make_engine(profile, tmp_path / "flash", name="m", clock=clock)
    with pytest.raises(ModelError, match="ARENA_TOO_SMALL"):
        program_model(engine, sine.data)


def test_program_model_boots_active(tmp_path, clock, sine):
    engine = make_engine("stm32f746disco", tmp_path / "flash", name="m", clock=clock)
    program_model(engine, sine.data, name="sine")
    host = EngineHost(engine)
    host.boot()
    info = host.ok(Hello())
    assert info.active_slot == 0 and info.slots[0].state == SlotState.ACTIVE and info.slots[0].name == "sine"


def test_latency_scales_with_macs_and_clock():
    nano, esp = get_profile("nano33ble"), get_profile("esp32s3")
    macs = 7_200_000
    assert latency_us(macs, nano, overhead_us=0) == round(macs / (64e6 * 0.18) * 1e6)
    assert latency_us(macs, esp, overhead_us=0) < latency_us(macs, nano, overhead_us=0)
    assert latency_us(0, nano) == 50


def test_input_loop_replays_the_stream_with_ids_counting_on(gesture):
    info = inspect_model(gesture.data)
    loop = InputLoop(info, seed=4)
    assert loop.length == INPUT_LOOP_LENGTH  # 96 int8 bytes per window: the count limit applies
    stream = list(itertools.islice(input_stream(info, seed=4), loop.length))
    seen = [loop.next() for _ in range(2 * loop.length + 3)]
    assert [input_id for input_id, _ in seen] == list(range(2 * loop.length + 3))
    for input_id, array in seen:
        assert np.array_equal(array, stream[input_id % loop.length][1])
    loop.restart()
    assert loop.next()[0] == 0


def test_input_loop_is_bounded_in_bytes(gesture):
    info = inspect_model(gesture.data)
    spec = info.inputs[0]
    big = replace(info, inputs=(replace(spec, shape=(1, 96, 96, 1)),))
    assert InputLoop(big, seed=0).length == INPUT_LOOP_BYTES // (96 * 96)
