"""INFER_RESULT, POWER and LOG streams on a fake clock: every figure derived exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fleet.models.inputs import input_stream
from fleet.models.inspect import inspect_model
from fleet.models.tflm_runner import TflmRunner
from fleet.protocol import (
    ActivateMode, InferResult, Log, LogLevel, ModelBegin, OutputFormat, Power, Stream, StreamConfig,
)  # fmt: skip
from fleet.sim.factory import make_engine
from tests.support.hosts import EngineHost

RESULTS_POWER = int(Stream.RESULTS | Stream.POWER)


def results(events):
    return [e for e in events if isinstance(e, InferResult)]


def powers(events):
    return [e for e in events if isinstance(e, Power)]


def test_results_are_bit_exact_tflm_outputs(host, clock, sine):
    host.deploy(sine.data, mode=ActivateMode.PERMANENT)
    model = host.engine.model
    host.ok(StreamConfig(int(Stream.RESULTS), 1, 10, 100, 0))
    start = clock.now_us()
    clock.advance(1_000_000)
    got = results(host.tick())
    latency = model.latency_us
    assert len(got) == (1_000_000 - latency) // 10_000 + 1
    info = inspect_model(sine.data)
    runner = TflmRunner(sine.data, model.arena_used)
    expected_inputs = input_stream(info, seed=7)
    boot = start - host.engine.device_time_us + (clock.now_us() - start)  # clock time of boot
    for n, result in enumerate(got):
        input_id, x = next(expected_inputs)
        out = runner.run(x)
        assert result.input_id == input_id == n
        assert result.data == out.astype("<i1").tobytes()
        assert result.inference_count == n + 1
        assert result.latency_us == latency
        assert result.device_time_us == start - boot + n * 10_000 + latency
        assert result.model_prefix == model.sha256[:4]
        assert (result.dtype, result.format) == (9, OutputFormat.RAW)
        assert result.scale == pytest.approx(info.outputs[0].scale) and result.zero_point == info.outputs[0].zero_point


def test_back_to_back_results_one_per_latency(host, clock, sine):
    host.deploy(sine.data, mode=ActivateMode.PERMANENT)
    latency = host.engine.model.latency_us
    host.ok(StreamConfig(int(Stream.RESULTS), 1, 0, 100, 0))
    clock.advance(latency * 20)
    got = results(host.tick())
    assert len(got) == 20
    assert {b.device_time_us - a.device_time_us for a, b in zip(got, got[1:])} == {latency}


def test_energy_is_exactly_derivable(host, clock, sine):
    host.deploy(sine.data, mode=ActivateMode.PERMANENT)
    engine = host.engine
    profile, latency = engine.profile, engine.model.latency_us
    host.ok(StreamConfig(RESULTS_POWER, 1, 20, 100, 0))
    enabled_at = engine.device_time_us
    clock.advance(1_000_000)
    events = host.tick()
    samples = powers(events)
    assert len(samples) == 10
    for k, sample in enumerate(samples, start=1):
        t = enabled_at + k * 100_000
        assert sample.device_time_us == t
        # inferences start every 20 ms from enabled_at, each busy for `latency` µs
        done, into = divmod(t - enabled_at, 20_000)
        busy = done * latency + min(into, latency)
        assert sample.energy_uj == math.floor((profile.idle_mw * (t - busy) + profile.active_mw * busy) / 1000)
        assert sample.voltage_mv == profile.voltage_mv
    # Interval current: 5 inferences per 100 ms window.
    duty = 5 * latency / 100_000
    avg_mw = profile.idle_mw * (1 - duty) + profile.active_mw * duty
    assert samples[3].current_ua == round(avg_mw / profile.voltage_mv * 1e6)
    assert engine.energy_uj() == math.floor(
        (profile.idle_mw * (engine.device_time_us - engine.busy_us) + profile.active_mw * engine.busy_us) / 1000
    )
    assert engine.busy_us == len(results(events)) * latency


def test_idle_board_draws_idle_power(host, clock):
    host.ok(StreamConfig(int(Stream.POWER), 1, 0, 0, 0))  # 0: the board's fastest, 10 ms
    clock.advance(50_000)
    samples = powers(host.tick())
    assert len(samples) == 5
    profile = host.engine.profile
    assert {s.current_ua for s in samples} == {round(profile.idle_mw / profile.voltage_mv * 1e6)}


def test_top_k(tmp_path, clock, gesture):
    host = EngineHost(make_engine("esp32s3", tmp_path / "f", name="s", clock=clock, seed=3))
    host.boot()
    host.deploy(gesture.data, mode=ActivateMode.PERMANENT)
    host.ok(StreamConfig(int(Stream.RESULTS), 1, 100, 100, 2))
    clock.advance(450_000)
    got = results(host.tick())
    assert host.engine.model.latency_us == 84  # 4544 MACs on the esp32s3, plus the invoke overhead
    assert len(got) == 5  # one every 100 ms from the start, each done 84 µs later
    runner = TflmRunner(gesture.data, host.engine.model.arena_used)
    inputs = input_stream(inspect_model(gesture.data), seed=3)
    for result in got:
        out = runner.run(next(inputs)[1]).reshape(-1)
        order = sorted(range(out.size), key=lambda i: (-int(out[i]), i))[:2]
        expected = b"".join(int(i).to_bytes(2, "little") + out[i : i + 1].tobytes() for i in order)
        assert result.format == OutputFormat.TOPK and result.data == expected


def test_transmit_backpressure_holds_inference(host, clock, sine):
    host.deploy(sine.data, mode=ActivateMode.PERMANENT)
    host.ok(StreamConfig(int(Stream.RESULTS), 1, 0, 100, 0))
    clock.advance(100_000)
    assert len(results(host.tick(tx_room=1))) == 1  # the UART takes one frame, inference waits
    assert len(results(host.tick(tx_room=0))) == 0
    count = host.engine.inference_count
    assert count == 1


def test_lagging_board_skips_ahead(tmp_path, clock, sine):
    host = EngineHost(make_engine("nano33ble", tmp_path / "f", name="l", clock=clock, max_lag_us=50_000))
    host.boot()
    host.deploy(sine.data, mode=ActivateMode.PERMANENT)
    host.ok(StreamConfig(int(Stream.RESULTS), 1, 10, 100, 0))
    clock.advance(1_000_000)  # the host stalled for a second
    assert results(host.tick()) == []  # no burst of 100 stale results: the schedule restarts now
    clock.advance(host.engine.model.latency_us)
    assert len(results(host.tick())) == 1


def test_logs_follow_level(host):
    host.ok(StreamConfig(int(Stream.LOG), int(LogLevel.WARN), 0, 100, 0))
    host.ok(ModelBegin(0, 10, bytes(32)))  # INFO: filtered
    host.request(ModelBegin(0, 0, bytes(32)))  # refused: WARN
    logs = [e for e in host.events if isinstance(e, Log)]
    assert len(logs) == 1 and logs[0].level == LogLevel.WARN and "TOO_LARGE" in logs[0].text
    host.ok(StreamConfig(int(Stream.LOG), int(LogLevel.DEBUG), 0, 100, 0))
    host.ok(ModelBegin(0, 10, bytes(32)))
    assert "upload" in host.events[-1].text


def test_event_seq_counts_every_event(host, clock, sine):
    host.deploy(sine.data, mode=ActivateMode.PERMANENT)
    host.ok(StreamConfig(RESULTS_POWER, 1, 10, 10, 0))
    clock.advance(200_000)
    host.tick()
    assert host.engine._event_seq == len(host.events)  # BOOT was seq 0
    assert np.all(np.diff([e.device_time_us for e in host.events[1:]]) >= 0)


@pytest.fixture
def slow_pico():
    """The RP2040 profile a hundred times slower, so that the bundled gesture model takes
    ~70 ms per inference there, as a keyword-spotting model does on a real Pico."""
    from fleet.profiles import get_profile

    pico = get_profile("pico")
    return pico.model_copy(update={"macs_per_cycle": pico.macs_per_cycle / 100})


@pytest.mark.parametrize("change", ["switch model", "results off", "rollback"])
def test_busy_time_never_runs_backwards(tmp_path, clock, gesture, sine, slow_pico, change):
    # An inference in progress when the model changes or stops was busy time the last POWER
    # sample counted; forgetting it made busy time run backwards (dbusy -94173 us), the
    # interval current negative, and encoding that POWER event fail, stopping the board.
    from fleet.protocol import ModelActivate, ModelRollback

    host = EngineHost(make_engine(slow_pico, tmp_path / "f", name="p", clock=clock))
    host.boot()
    host.deploy(gesture.data, slot=0, mode=ActivateMode.PERMANENT)
    host.upload(sine.data, slot=1)
    engine = host.engine
    assert engine.model.latency_us > 60_000
    host.ok(StreamConfig(RESULTS_POWER, 1, 0, 10, 0))  # back-to-back inference, POWER every 10 ms
    clock.advance(45_000)  # four samples, all inside the first inference
    before = powers(host.tick())
    busy = engine.busy_us
    assert len(before) == 4 and busy == 40_000 + 5_000
    if change == "switch model":
        host.ok(ModelActivate(1, ActivateMode.TEST))
    elif change == "results off":
        host.ok(StreamConfig(int(Stream.POWER), 1, 0, 10, 0))
    else:
        host.ok(ModelActivate(1, ActivateMode.TEST))
        host.ok(ModelRollback())
    assert engine.busy_us >= busy
    clock.advance(100_000)
    events = host.tick()
    after = powers(events)
    profile = engine.profile
    idle_ua = round(profile.idle_mw / profile.voltage_mv * 1e6)
    assert len(after) == 10 and all(s.current_ua >= idle_ua for s in after)
    energies = [s.energy_uj for s in before + after]
    assert energies == sorted(energies)
    if change == "switch model":  # the new model streams results at once (its health check sees them)
        assert results(events) and {r.model_prefix for r in results(events)} == {engine.model.sha256[:4]}
