"""Recovery: an emulated meter plays a known waveform; the reducer gives back each inference's energy.

Every figure is derived from the waveform: an inference of L µs at active power Pa costs
Pa * L / 1000 µJ (Pa - Pi with the idle baseline subtracted).
"""

from __future__ import annotations

import random

from tests.support.sim import require_sim

require_sim()  # runs virtual boards

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fleet.sim.meters.activity import MARKER_LOW_US, Activity  # noqa: E402
from fleet.meters.energy import EnergyReducer, ResultMark  # noqa: E402
from fleet.sim.meters.ppk2_emulator import PERIOD_US, Ppk2Device  # noqa: E402
from fleet.meters.ppk2_protocol import Calibration, Command, SampleDecoder, regulator_bytes  # noqa: E402
from fleet.protocol import InferResult, Stream, StreamConfig  # noqa: E402
from fleet.sim.factory import make_engine  # noqa: E402
from fleet.sim.clock import FakeClock  # noqa: E402
from fleet.sim.power import PowerModel  # noqa: E402
from tests.support.hosts import EngineHost  # noqa: E402

MODEL = PowerModel(idle_mw=6.6, active_mw=19.8, voltage_mv=3300)
T0 = 7_000_000  # clock time the meter starts
BOARD_BOOT = 2_000_000  # the board's clock counts from here: device time = clock - BOARD_BOOT


class Bench:
    """A PPK2 emulator on a fake clock, its stream decoded, fed to a reducer in 5 ms reads."""

    def __init__(self, activity: Activity, reducer: EnergyReducer, clock: FakeClock) -> None:
        self.clock, self.reducer = clock, reducer
        self.device = Ppk2Device(activity, clock)
        calibration = Calibration.parse(self.device.receive(bytes([Command.GET_META_DATA])).decode())
        self.device.receive(bytes([Command.SET_POWER_MODE, 2, Command.REGULATOR_SET, *regulator_bytes(3300),
                                   Command.DEVICE_RUNNING_SET, 1, Command.AVERAGE_START]))  # fmt: skip
        self.decoder = SampleDecoder(calibration, 3300)
        self.read = 0
        self.out = []
        self.skip = 0  # bytes of the stream's start the host does not get (it opened mid-sample)

    def run_until(self, t_us: int, step_us: int = 5000, tick=lambda: None) -> None:
        while self.clock.now_us() < t_us:
            self.clock.advance(step_us)
            tick()  # the board first: a meter sees an inference once the board ran it
            data = self.device.collect()
            data, self.skip = data[self.skip :], max(0, self.skip - len(data))
            current, logic = self.decoder.feed(data)
            t0 = self.device.t0_us + self.read * PERIOD_US
            self.read += len(current)
            self.out += self.reducer.feed_samples(t0, PERIOD_US, current, 3.3, (logic & 1).astype(bool))


def waveform(n: int, latency_us: int, period_us: int, first_us: int) -> list[tuple[int, int]]:
    """n inferences of latency_us every period_us from first_us (clock time), as busy spans."""
    return [(first_us + k * period_us, first_us + k * period_us + latency_us) for k in range(n)]


def playing(spans) -> Activity:
    """A board's activity made of these busy spans."""
    activity = Activity(MODEL)
    for span in spans:
        activity.add_span(*span)
    return activity


def marks(spans, *, host_error_us=0.0) -> list[ResultMark]:
    return [ResultMark(k + 1, end - BOARD_BOOT, end - start, end + host_error_us) for k, (start, end) in enumerate(spans)]


@pytest.mark.parametrize("latency_us", [1_003, 3_217, 48_611])
def test_marker_method_recovers_each_inference_within_one_percent(latency_us):
    clock = FakeClock(T0)
    spans = waveform(40, latency_us, latency_us + 6_113, T0 + 20_007)
    activity = playing(spans)
    reducer = EnergyReducer("marker")
    bench = Bench(activity, reducer, clock)
    # The host's first estimate of where a result falls on the meter's clock is 2.5 ms off
    # (less than half the shortest period here, 7.1 ms: the lock needs that, docs/power.md).
    for mark in marks(spans, host_error_us=2_500):
        bench.run_until(mark.meter_end_us - 2_500)
        bench.out += reducer.feed_result(mark)
    bench.run_until(spans[-1][1] + 30_000)
    assert [e.inference_count for e in bench.out] == list(range(1, 41))
    assert reducer.unmatched_pulses == reducer.unmatched_results == 0
    assert reducer.offset_us == pytest.approx(BOARD_BOOT, abs=PERIOD_US)
    expected = MODEL.active_mw * latency_us / 1000
    for e in bench.out:
        assert e.method == "marker"
        assert e.energy_uj == pytest.approx(expected, rel=0.01)
        assert e.duration_us == pytest.approx(latency_us, abs=PERIOD_US)


def test_baseline_subtraction_leaves_the_inference_alone():
    clock = FakeClock(T0)
    spans = waveform(20, 5_000, 12_000, T0 + 10_003)
    activity = playing(spans)
    reducer = EnergyReducer("marker", baseline=True)
    bench = Bench(activity, reducer, clock)
    for mark in marks(spans):
        bench.run_until(mark.meter_end_us)
        bench.out += reducer.feed_result(mark)
    bench.run_until(spans[-1][1] + 30_000)
    later = bench.out[1:]  # the first has no gap before it yet: no baseline
    assert bench.out[0].baseline_uj == 0.0
    for e in later:
        assert e.energy_uj == pytest.approx((MODEL.active_mw - MODEL.idle_mw) * 5_000 / 1000, rel=0.01)
        assert e.baseline_uj == pytest.approx(MODEL.idle_mw * 5_000 / 1000, rel=0.01)


@pytest.mark.parametrize("epsilon_us", [0, 150, -400])
def test_timestamp_method_stays_within_its_documented_bound(epsilon_us):
    clock = FakeClock(T0)
    latency = 4_000
    spans = waveform(20, latency, 11_000, T0 + 10_000)
    activity = playing(spans)
    reducer = EnergyReducer("timestamp")
    bench = Bench(activity, reducer, clock)
    for mark in marks(spans, host_error_us=epsilon_us):
        bench.out += reducer.feed_result(mark)
    bench.run_until(spans[-1][1] + 30_000)
    assert len(bench.out) == 20
    exact = MODEL.active_mw * latency / 1000
    bound = abs(epsilon_us) * (MODEL.active_mw - MODEL.idle_mw) / 1000  # docs/power.md
    for e in bench.out:
        assert e.method == "timestamp"
        assert abs(e.energy_uj - exact) <= bound + 1e-3 * exact  # + the ADC step
    errors = [abs(e.energy_uj - exact) for e in bench.out]
    assert max(errors) == pytest.approx(bound, abs=1e-3 * exact)  # the bound is what a shift costs


def bursts(n: int) -> list[tuple[int, int]]:
    """n bursts of three 444 µs inferences back to back, an irregular wait after each (as
    long as its serial port keeps a board running on a loaded host waiting)."""
    spans, t, waits = [], T0 + 10_000, random.Random(7)
    for _ in range(n):
        for _ in range(3):
            spans.append((t, t + 444))
            t += 444
        t += waits.randrange(1_000, 6_000)
    return spans


def test_the_lock_finds_the_true_pulse_among_bursts_of_back_to_back_inferences():
    # A loaded host runs a fast board in bursts (back to back, then waiting on its serial
    # port), and its estimate of where a result ends is off by a few inferences. The nearest
    # pulse is then a neighbour, and with that offset every burst's edge pairs with nothing.
    clock = FakeClock(T0)
    spans = bursts(12)
    reducer = EnergyReducer("marker")
    bench = Bench(playing(spans), reducer, clock)
    for mark in marks(spans, host_error_us=900):  # the third pulse of the burst is the nearest
        bench.out += reducer.feed_result(mark)
    bench.run_until(spans[-1][1] + 30_000)
    assert [e.inference_count for e in bench.out] == list(range(1, 37))
    assert reducer.unmatched_pulses == reducer.unmatched_results == 0
    assert reducer.offset_us == pytest.approx(BOARD_BOOT, abs=PERIOD_US)


def test_a_wrong_lock_is_taken_again():
    # A loaded host delayed the first results by more than the coarse tolerance: the lock
    # took a wrong pulse, and with it a third of the results never paired.
    clock = FakeClock(T0)
    spans = bursts(20)
    reducer = EnergyReducer("marker")
    bench = Bench(playing(spans), reducer, clock)
    late = marks(spans[:3], host_error_us=25_000)  # the first burst's results, 25 ms late
    for mark in [*late, *marks(spans)[3:]]:
        bench.out += reducer.feed_result(mark)
    bench.run_until(spans[-1][1] + 30_000)
    measured = [e.inference_count for e in bench.out]
    assert measured[-24:] == list(range(37, 61))  # locked again, within two RELOCK_WINDOWs
    assert reducer.offset_us == pytest.approx(BOARD_BOOT, abs=PERIOD_US)


def test_results_and_pulses_that_do_not_pair_are_counted_not_guessed():
    clock = FakeClock(T0)
    spans = waveform(6, 2_000, 10_000, T0 + 10_000)
    activity = playing(spans)
    reducer = EnergyReducer("marker")
    bench = Bench(activity, reducer, clock)
    all_marks = marks(spans)
    # Result 3 never arrives; a result with no pulse (its board clock 5 ms later) does.
    stray = ResultMark(99, all_marks[4].device_time_us + 5_000, 2_000, all_marks[4].meter_end_us + 5_000)
    for mark in [*all_marks[:2], *all_marks[3:5], stray, all_marks[5]]:
        bench.out += reducer.feed_result(mark)
    bench.run_until(spans[-1][1] + 30_000)
    assert [e.inference_count for e in bench.out] == [1, 2, 4, 5, 6]
    assert reducer.unmatched_pulses == 1 and reducer.unmatched_results == 1


@pytest.mark.parametrize("skip", [1, 2, 3])
def test_a_stream_entered_mid_sample_gives_the_same_figures(skip):
    # Read from the wrong byte, a PPK2's samples are any range's values: a bench in CI once
    # reported 60,387 µJ for an 8.8 µJ inference. Entered at any byte, the figures are the
    # inferences' own (back to back: 444 µs every 454 µs, as `fleet bench` runs them).
    clock = FakeClock(T0)
    spans = waveform(200, 444, 454, T0 + 20_000)
    reducer = EnergyReducer("marker")
    bench = Bench(playing(spans), reducer, clock)
    bench.skip = skip
    for mark in marks(spans):
        bench.out += reducer.feed_result(mark)
    bench.run_until(spans[-1][1] + 50_000)
    exact = MODEL.active_mw * 444 / 1000
    assert len(bench.out) == 200 and reducer.unmatched_results == 0
    assert all(exact * 0.97 < e.energy_uj < exact * 1.01 for e in bench.out)


def test_an_inference_whose_samples_were_partly_lost_is_not_measured():
    # Samples a meter lost (its counter jumped) hold energy nobody measured: a window over them is no figure.
    current, marker = np.full(10_000, 0.002), np.zeros(10_000, dtype=bool)
    ends = []
    for k in range(8):  # 440 µs inferences every 10 ms, from 5 ms
        current[500 + 1000 * k : 544 + 1000 * k], marker[500 + 1000 * k : 544 + 1000 * k] = 0.006, True
        ends.append(5_440 + 10_000 * k)
    reducer = EnergyReducer("marker")
    out = []
    for n, end in enumerate(ends):
        out += reducer.feed_result(ResultMark(n + 1, end, 440, float(end)))
    lost = slice(2520, 2530)  # ten samples inside inference 3
    for a, b in ((0, lost.start), (lost.stop, 10_000)):
        out += reducer.feed_samples(a * PERIOD_US, PERIOD_US, current[a:b], 3.3, marker[a:b])
    assert [e.inference_count for e in out] == [1, 2, 4, 5, 6, 7, 8]
    assert reducer.unmatched_results == 1
    assert all(e.energy_uj == pytest.approx(0.006 * 3.3 * 440, rel=1e-9) for e in out)


def test_a_pulse_not_as_long_as_its_results_latency_is_not_its_inference():
    clock = FakeClock(T0)
    spans = waveform(8, 2_000, 10_000, T0 + 10_000)
    # Inference 4's pulse cut short (as a starved emulator may draw it), 6's three times as
    # long (a marker wired to more than the invoke), each ending where its result says.
    drawn = [*spans[:3], (spans[3][1] - 1_000, spans[3][1]), spans[4], (spans[5][1] - 6_000, spans[5][1]), *spans[6:]]
    reducer = EnergyReducer("marker")
    bench = Bench(playing(drawn), reducer, clock)
    for mark in marks(spans):
        bench.out += reducer.feed_result(mark)
    bench.run_until(spans[-1][1] + 30_000)
    assert [e.inference_count for e in bench.out] == [1, 2, 3, 5, 7, 8]
    assert reducer.unmatched_results == 2 and reducer.unmatched_pulses == 2
    assert all(e.energy_uj == pytest.approx(MODEL.active_mw * 2_000 / 1000, rel=0.01) for e in bench.out)


def metered_board(tmp_path, model: bytes, max_lag_us: int | None = None):  # noqa: ANN201
    """A virtual board running `model` on a fake clock, its activity read by a PPK2 emulator
    (from T0) into a marker reducer: (clock, engine, host, reducer, bench)."""
    clock = FakeClock(BOARD_BOOT)
    engine = make_engine("nano33ble", tmp_path, clock=clock, seed=3, max_lag_us=max_lag_us)
    host = EngineHost(engine)
    host.boot()
    host.deploy(model)
    activity = Activity(engine.power_model)
    activity.attach(engine)
    clock.set(T0)
    reducer = EnergyReducer("marker")
    return clock, engine, host, reducer, Bench(activity, reducer, clock)


def test_a_virtual_boards_inferences_measured_through_the_emulated_meter(tmp_path, gesture):
    clock, engine, host, reducer, bench = metered_board(tmp_path, gesture.data)
    host.ok(StreamConfig(Stream.RESULTS, result_interval_ms=7))
    results: list[InferResult] = []

    def tick() -> None:
        new = [m for m in host.tick() if isinstance(m, InferResult)]
        for r in new:
            bench.out += reducer.feed_result(ResultMark(r.inference_count, r.device_time_us, r.latency_us,
                                                        r.device_time_us + BOARD_BOOT + 2_500))  # fmt: skip
        results.extend(new)

    while len(results) < 30:
        bench.run_until(clock.now_us() + 1, step_us=97, tick=tick)
    bench.run_until(clock.now_us() + 40_000)
    assert len(bench.out) >= 29 and reducer.unmatched_results == 0
    latency = results[0].latency_us
    for e in bench.out:
        assert e.energy_uj == pytest.approx(engine.power_model.inference_energy_uj(latency), rel=0.01)
    assert np.mean([e.power_mw for e in bench.out]) == pytest.approx(engine.power_model.active_mw, rel=0.01)


def test_back_to_back_inferences_stay_apart_on_the_marker():
    # Regression: with no gap the marker stayed high, no pulse ever ended, no energy came out.
    clock = FakeClock(T0)
    spans = waveform(10, 2_000, 2_000, T0 + 10_000)  # each starts where the last ended
    reducer = EnergyReducer("marker")
    bench = Bench(playing(spans), reducer, clock)
    for mark in marks(spans):
        bench.out += reducer.feed_result(mark)
    bench.run_until(spans[-1][1] + 30_000)
    assert [e.inference_count for e in bench.out] == list(range(1, 11))
    exact = MODEL.active_mw * 2_000 / 1000
    for e in bench.out[1:]:  # the low time (10 µs) before each later pulse is in no window
        assert e.energy_uj == pytest.approx(exact * (2_000 - MARKER_LOW_US) / 2_000, rel=1e-3)


def test_the_figures_do_not_depend_on_how_the_stream_is_cut_into_reads():
    # The driver hands over 50 ms batches on a live port and single reads elsewhere: the same
    # samples must give the same windows and energies, to the last rounding.
    outs = []
    for step_us in (97, 5_000, 50_000):
        clock = FakeClock(T0)
        spans = waveform(30, 1_503, 7_919, T0 + 10_011)
        reducer = EnergyReducer("marker", baseline=True)
        bench = Bench(playing(spans), reducer, clock)
        for mark in marks(spans, host_error_us=1_000):
            bench.out += reducer.feed_result(mark)
        bench.run_until(spans[-1][1] + 60_000, step_us=step_us)
        assert reducer.unmatched_results == reducer.unmatched_pulses == 0
        outs.append(bench.out)
    assert len(outs[0]) == 30
    for out in outs[1:]:
        assert [(e.start_us, e.end_us) for e in out] == [(e.start_us, e.end_us) for e in outs[0]]
        for e, first in zip(out, outs[0], strict=True):
            assert e.energy_uj == pytest.approx(first.energy_uj, rel=1e-9)
            assert e.baseline_uj == pytest.approx(first.baseline_uj, rel=1e-9)


@pytest.mark.parametrize("late_us", [3_000, 150_000])  # within the board's max lag
def test_a_board_ticked_late_is_drawn_where_it_ran(tmp_path, gesture, late_us):
    # On the real clock a loaded host ticks a board late. Back to back, the next inference
    # ran from the end of the last one; a meter that drew that time as idle before the board
    # accounted it lost the pulse, and a measurement waiting for its energies never ended.
    clock, engine, host, reducer, bench = metered_board(tmp_path, gesture.data, max_lag_us=200_000)
    host.ok(StreamConfig(Stream.RESULTS, result_interval_ms=0))
    results: list[InferResult] = []
    for _ in range(100):
        if len(bench.out) >= 30:
            break
        bench.run_until(clock.now_us() + late_us, step_us=97)  # the meter reads on; the board's tick is late
        for r in (m for m in host.tick() if isinstance(m, InferResult)):
            results.append(r)
            bench.out += reducer.feed_result(ResultMark(r.inference_count, r.device_time_us, r.latency_us,
                                                        r.device_time_us + BOARD_BOOT))  # fmt: skip
    measured = [e.inference_count for e in bench.out]
    assert len(measured) >= 30 and measured == [r.inference_count for r in results[: len(measured)]]
    assert reducer.unmatched_results == 0
    latency = results[0].latency_us
    # Each later pulse starts MARKER_LOW_US after its inference; its window's edges fall on samples.
    exact = engine.power_model.active_mw * (latency - MARKER_LOW_US) / 1000
    for e in bench.out[1:]:
        assert e.energy_uj == pytest.approx(exact, abs=engine.power_model.active_mw * PERIOD_US / 1000)
