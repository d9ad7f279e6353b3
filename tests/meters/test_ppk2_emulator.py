"""The PPK2 emulator speaks the PPK2 protocol: sans-I/O on a fake clock, and to the unmodified ppk2-api client."""

from __future__ import annotations

import asyncio
import time

from tests.support.sim import require_numpy

require_numpy()  # the meter protocols are numpy arrays

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fleet.sim.meters.activity import Activity  # noqa: E402
from fleet.sim.meters.ppk2_emulator import Ppk2Device  # noqa: E402
from fleet.meters.ppk2_protocol import Calibration, Command, SampleDecoder, regulator_bytes, regulator_mv  # noqa: E402
from fleet.sim.meters.pty_meter import PtyMeter  # noqa: E402
from fleet.sim.clock import FakeClock  # noqa: E402
from fleet.sim.power import PowerModel  # noqa: E402
from tests.support.wait import DEADLINE_S, until  # noqa: E402

MODEL = PowerModel(idle_mw=6.6, active_mw=19.8, voltage_mv=3300)


def _start(device: Ppk2Device, mv: int = 3300) -> Calibration:
    calibration = Calibration.parse(device.receive(bytes([Command.GET_META_DATA])).decode())
    b1, b2 = regulator_bytes(mv)
    device.receive(bytes([Command.SET_POWER_MODE, 2, Command.REGULATOR_SET, b1, b2]))
    device.receive(bytes([Command.DEVICE_RUNNING_SET, 1, Command.AVERAGE_START]))
    return calibration


def test_regulator_encoding_round_trips():
    for mv in (800, 1800, 3000, 3300, 5000):
        assert regulator_mv(*regulator_bytes(mv)) == mv


def test_samples_follow_the_activity_with_the_marker_on_its_channel():
    clock = FakeClock(1_000_000)
    activity = Activity(MODEL)
    activity.add_span(1_002_000, 1_007_005)  # an inference of 5.005 ms
    device = Ppk2Device(activity, clock, marker_channel=3)
    calibration = _start(device)
    clock.advance(10_000)
    decoder = SampleDecoder(calibration, device.vdd_mv)
    data = device.collect()
    current, logic = decoder.feed(data[:-2])  # a partial sample is kept for the next read
    assert len(current) == 999 and device.collect() == b""  # nothing new until the clock moves
    rest, rest_logic = decoder.feed(data[-2:])
    current, logic = np.concatenate([current, rest]), np.concatenate([logic, rest_logic])
    clock.advance(10)
    current2, logic2 = decoder.feed(device.collect())
    current, logic = np.concatenate([current, current2]), np.concatenate([logic, logic2])
    assert len(current) == 1001 and decoder.lost == 0
    high = np.flatnonzero(logic & 0x08)
    assert high[0] == 200 and high[-1] == 700  # sample 700 starts at 1_007_000 < 1_007_005
    assert not (logic & ~np.uint8(0x08)).any()
    idle_a, active_a = MODEL.idle_mw / 3300, MODEL.active_mw / 3300
    assert current[:200] == pytest.approx(idle_a, abs=0.5e-6)  # 2 mA and 6 mA: range 1, 0.43 uA per ADC step
    assert current[201:700] == pytest.approx(active_a, abs=0.5e-6)
    assert current[700] == pytest.approx(idle_a + (active_a - idle_a) * 0.5, abs=0.5e-6)  # half busy


def test_a_decoder_counts_lost_samples_by_the_counter():
    clock = FakeClock(0)
    device = Ppk2Device(Activity(MODEL), clock)
    calibration = _start(device)
    clock.advance(1000)
    data = device.collect()
    decoder = SampleDecoder(calibration, 3300)
    decoder.feed(data[:40] + data[80:])  # 10 samples lost in the middle
    assert decoder.lost == 10 and decoder.samples == 90


def test_every_range_and_adc_value_decodes_by_the_ppk2_api_formula():
    # A calibration with every term non-trivial, as a real PPK2's metadata has (R, GS, GI, O, S, I, UG).
    calibration = Calibration(r=(1031.6, 101.7, 10.2, 0.94, 0.043), gs=(1e-4, 2e-4, 3e-4, 4e-4, 5e-4),
                              gi=(0.98, 0.99, 1.01, 1.02, 1.03), o=(61.2, 73.4, 81.1, 90.5, 102.0),
                              s=(1e-8, 2e-8, 3e-8, 4e-8, 5e-8), i=(1e-9, -2e-9, 3e-9, -4e-9, 5e-9),
                              ug=(1.001, 0.999, 1.002, 0.998, 1.003))  # fmt: skip
    rng = np.random.default_rng(5)
    words = rng.integers(0, 1 << 32, size=20_000, dtype=np.uint64).astype(np.uint32)
    words[:5] = [0, 0x3FFF, 0x4000 | 17, (4 << 14) | 0x3FFF, (7 << 14) | 123]  # edges; range 7 reads as range 4
    counters = np.arange(len(words), dtype=np.uint32) % 64
    words = (words & ~np.uint32(0x3F << 18)) | (counters << 18)  # an unbroken counter
    current, logic = SampleDecoder(calibration, 3000).feed(words.astype("<u4").tobytes())
    for word, amps, bits in zip(words.tolist(), current.tolist(), logic.tolist(), strict=True):
        r = min((word >> 14) & 7, 4)
        x = ((word & 0x3FFF) * 4 - calibration.o[r]) * (1.8 / 163840 / calibration.r[r])
        expected = calibration.ug[r] * (x * (calibration.gs[r] * x + calibration.gi[r]) + calibration.s[r] * 3.0
                                        + calibration.i[r])  # fmt: skip
        assert amps == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert bits == word >> 24


def test_dut_power_off_reads_zero_in_source_mode():
    clock = FakeClock(0)
    device = Ppk2Device(Activity(MODEL), clock)
    calibration = _start(device)
    device.receive(bytes([Command.DEVICE_RUNNING_SET, 0]))
    clock.advance(100)
    current, _ = SampleDecoder(calibration, 3300).feed(device.collect())
    assert (current == 0).all()


def _ppk2_api_session(port: str, want: int, samples: list[float], bits: list[int]) -> None:
    """ppk2-api's own read loop (its example's), until `want` samples are in `samples`."""
    from ppk2_api.ppk2_api import PPK2_API

    ppk2 = PPK2_API(port, timeout=1, write_timeout=1)
    try:
        assert ppk2.get_modifiers()
        ppk2.use_source_meter()
        ppk2.set_source_voltage(3300)
        ppk2.toggle_DUT_power("ON")
        ppk2.start_measuring()
        deadline = time.monotonic() + DEADLINE_S
        while len(samples) < want and time.monotonic() < deadline:
            data = ppk2.get_data()
            if data:
                s, b = ppk2.get_samples(data)
                samples += s
                bits += b
            time.sleep(0.001)
        ppk2.stop_measuring()
    finally:
        ppk2.ser.close()


async def test_the_unmodified_ppk2_api_client_reads_the_emulator():
    pytest.importorskip("ppk2_api")
    # The emulator's clock moves 5 ms (2,000 bytes) at a time, once the client has read all
    # before: ppk2-api loses the sample alignment for good when a read returns fewer bytes
    # than the sample it has begun (its remainder goes negative), which a pseudo-terminal
    # whose 4 KB input buffer its reader lets fill up can deliver on a loaded machine.
    clock = FakeClock(1_000_000)
    activity = Activity(MODEL)
    now = clock.now_us()
    for k in range(20):  # 2 ms high every 10 ms, from 100 ms on
        activity.add_span(now + 100_000 + k * 10_000, now + 102_000 + k * 10_000)
    device = Ppk2Device(activity, clock)
    meter = PtyMeter(device)
    meter.start()
    samples: list[float] = []
    bits: list[int] = []
    try:
        session = asyncio.ensure_future(asyncio.to_thread(_ppk2_api_session, meter.port, 30_000, samples, bits))
        await until(lambda: device.measuring or session.done(), "the emulator to start measuring")
        for step in range(1, 61):
            clock.advance(5_000)
            await until(lambda: len(samples) >= step * 500 or session.done(), f"{step * 500} samples read")
        await session
    finally:
        await meter.stop()
    values = np.asarray(samples)  # microamperes
    marker = np.asarray(bits) & 1
    assert len(values) == 30_000
    assert marker.sum() == 20 * 200  # every pulse, 2 ms at 100 kS/s
    assert (np.flatnonzero(marker)[::200] == 10_000 + 1_000 * np.arange(20)).all()
    # ppk2-api's spike filter smooths 3 samples after each range switch: compare medians.
    assert np.median(values[marker == 1]) == pytest.approx(MODEL.active_mw / 3.3 * 1000, rel=1e-3)
    assert np.median(values[marker == 0]) == pytest.approx(MODEL.idle_mw / 3.3 * 1000, rel=1e-3)


async def test_fleets_driver_reads_the_emulator_over_a_pty():
    from fleet.meters.ppk2_driver import Ppk2Driver
    from fleet.transport.serial import open_transport

    clock = FakeClock(1_000_000)
    activity = Activity(MODEL)
    device = Ppk2Device(activity, clock, marker_channel=2)
    meter = PtyMeter(device)
    meter.start()
    transport = await open_transport(meter.port, 115200)
    try:
        driver = Ppk2Driver(transport, "EMU1", voltage_mv=3000, marker_channel=2)
        await driver.start()
        await until(lambda: device.measuring, "the emulator to read AVERAGE_START")
        activity.add_span(round(device.t0_us) + 50_000, round(device.t0_us) + 60_000)
        clock.advance(120_000)  # 12,000 samples
        chunks = []
        while sum(len(c.current_a) for c in chunks) < 12_000:
            chunks.append(await asyncio.wait_for(driver.read(), DEADLINE_S))
        await driver.stop()
    finally:
        await transport.close()
        await meter.stop()
    assert all(b.t0_us == pytest.approx(a.end_us) for a, b in zip(chunks, chunks[1:]))
    assert chunks[0].volts == 3.0 and driver.lost == 0
    current = np.concatenate([c.current_a for c in chunks])
    marker = np.concatenate([c.marker for c in chunks])
    assert len(current) == 12_000 and marker.sum() == 1000  # 10 ms at 100 kS/s
    assert np.flatnonzero(marker)[0] == 5_000
    # At the PPK2's 3.0 V; the last marked sample is the edge one, partly idle.
    assert current[marker][:-1] == pytest.approx(MODEL.active_mw / 3000, abs=0.5e-6)
