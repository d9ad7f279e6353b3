"""The LPM01A emulator answers EnergyRunner's commands; the driver reads it."""

from __future__ import annotations

import asyncio

from tests.support.sim import require_numpy

require_numpy()  # the meter protocols are numpy arrays

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fleet.errors import ProtocolError  # noqa: E402
from fleet.sim.meters.activity import Activity  # noqa: E402
from fleet.meters.lpm01a_driver import Lpm01aDriver  # noqa: E402
from fleet.sim.meters.lpm01a_emulator import Lpm01aDevice  # noqa: E402
from fleet.meters import lpm01a_protocol  # noqa: E402
from fleet.meters.lpm01a_protocol import (  # noqa: E402
    AsciiDecoder, decode_bin_hexa, encode_bin_hexa, format_ascii, parse_ascii, parse_number,
)  # fmt: skip
from fleet.sim.meters.pty_meter import PtyMeter  # noqa: E402
from fleet.sim.clock import FakeClock, MonotonicClock  # noqa: E402
from fleet.sim.power import PowerModel  # noqa: E402
from fleet.transport.serial import open_transport  # noqa: E402

MODEL = PowerModel(idle_mw=6.6, active_mw=19.8, voltage_mv=3300)
SETUP = ["htc", "volt 3300m", "freq 10k", "acqtime inf", "output current", "format ascii_dec", "trigsrc sw",
         "eventsrc d7 fal", "pwr on"]  # fmt: skip


def _send(device: Lpm01aDevice, *commands: str) -> list[str]:
    return device.receive("".join(c + "\n" for c in commands).encode()).decode().splitlines()


def test_numbers_and_sample_formats():
    assert parse_number("3300m") == pytest.approx(3.3)
    assert parse_number("2-3") == pytest.approx(0.002)
    assert parse_number("100u") == pytest.approx(1e-4)
    with pytest.raises(ValueError):
        parse_number("fast")
    assert format_ascii(640.9e-6) == b"6409-07" and parse_ascii(b"6409-07") == pytest.approx(640.9e-6)
    assert parse_ascii(b"TimeStamp: 5ms, buff 00%") is None
    assert encode_bin_hexa(np.array([640.9e-6])) != b"" and decode_bin_hexa(b"\x52\xa0")[0] == pytest.approx(640.9e-6, rel=1e-3)
    values = np.array([2e-3, 6e-3, 1e-6, 0.04])
    assert decode_bin_hexa(encode_bin_hexa(values)) == pytest.approx(values, rel=1 / 256)  # mantissa >= 0x100


def test_commands_are_acknowledged_or_refused_with_a_detail():
    device = Lpm01aDevice(Activity(MODEL), FakeClock(0), serial="LPM42")
    assert _send(device, "freq 1k") == ["PowerShield > error freq", "PowerShield > Error detail: host control not taken (htc)"]
    lines = _send(device, *SETUP)
    assert lines == [f"PowerShield > ack {c}" for c in SETUP]
    assert _send(device, "powershield") == ["PowerShield > ack powershield", "PowerShield > PowerShield present LPM42"]
    assert _send(device, "volt 5") == ["PowerShield > error volt", "PowerShield > Error detail: voltage out of range [1800m; 3300m]"]
    assert _send(device, "frobnicate")[0] == "PowerShield > error frobnicate"
    assert _send(device, "freq 100k", "start")[-1] == \
        "PowerShield > Error detail: ascii_dec is limited to 10k for an unlimited acquisition"


def test_the_ascii_stream_carries_current_and_a_timestamp_per_falling_edge():
    clock = FakeClock(1_000_000)
    activity = Activity(MODEL)
    activity.add_span(1_002_000, 1_005_000)
    device = Lpm01aDevice(activity, clock)
    _send(device, *SETUP, "start")
    clock.advance(10_000)
    lines = device.collect().decode().splitlines()
    values = [parse_ascii(line.encode()) for line in lines]
    samples = [v for v in values if v is not None]
    assert len(samples) == 100
    assert samples[0] == pytest.approx(MODEL.idle_mw / 3300, rel=1e-3)
    assert samples[25] == pytest.approx(MODEL.active_mw / 3300, rel=1e-3)
    assert [line for line in lines if line.startswith("TimeStamp")] == ["TimeStamp: 5ms, buff 00%"]
    assert _send(device, "stop") == ["PowerShield > ack stop", "PowerShield > Acquisition completed"]
    assert device.collect() == b""


def test_a_finite_acquisition_ends_by_itself_and_d7_waits_for_the_marker():
    clock = FakeClock(0)
    activity = Activity(MODEL)
    activity.add_span(3_000, 4_000)
    device = Lpm01aDevice(activity, clock)
    _send(device, *SETUP[:3], "acqtime 5m", "trigsrc d7", "start")
    clock.advance(2_000)
    assert device.collect() == b""  # no rising edge yet
    clock.advance(20_000)
    lines = device.collect().decode().splitlines()
    samples = [v for v in map(lambda s: parse_ascii(s.encode()), lines) if v is not None]
    assert len(samples) == 50 and samples[0] == pytest.approx(MODEL.active_mw / 3300, rel=1e-3)
    assert lines[-1] == "PowerShield > Acquisition completed"


async def test_the_driver_reads_the_emulator_over_a_pty():
    activity = Activity(MODEL)
    meter = PtyMeter(Lpm01aDevice(activity, MonotonicClock(), serial="LPM42"))
    meter.start()
    transport = await open_transport(meter.port, 115200)
    try:
        driver = Lpm01aDriver(transport, "LPM42", freq="10k")
        await driver.command("htc")
        with pytest.raises(ProtocolError, match="refused 'volt 9': voltage out of range"):
            await asyncio.wait_for(driver.command("volt 9"), 2)
        await driver.start()
        chunks = []
        while sum(len(c.current_a) for c in chunks) < 2000:
            chunks.append(await driver.read())
        assert all(b.t0_us == pytest.approx(a.end_us) for a, b in zip(chunks, chunks[1:]))
        current = np.concatenate([c.current_a for c in chunks])
        assert current == pytest.approx(MODEL.idle_mw / 3300, rel=1e-3)
        await driver.stop()
    finally:
        await transport.close()
        await meter.stop()


def _decoded(stream: bytes, size: int) -> tuple[list[float], list[int], int]:
    decoder = AsciiDecoder()
    parts = [decoder.feed(stream[k : k + size]) for k in range(0, len(stream), size)]
    return np.concatenate([p[0] for p in parts]).tolist(), [ms for p in parts for ms in p[1]], decoder.samples


def test_the_ascii_decoder_reads_the_meters_lines_as_parse_ascii_does(monkeypatch):
    rng = np.random.default_rng(3)
    values = np.concatenate(([0.0, 1.234e-30, 1.0, 640.9e-6], rng.uniform(1e-7, 0.05, 400)))
    lines = [format_ascii(v) for v in values]
    lines.insert(7, b"TimeStamp: 12ms, buff 00%")
    lines.insert(300, b"TimeStamp: 345ms, buff 07%")
    stream = b"".join(line + b"\r\n" for line in lines)  # as the meter (and the emulator) sends them
    expected = [parse_ascii(line) for line in lines if not line.startswith(b"TimeStamp")]

    def line_by_line(buf):
        raise AssertionError(f"not read as rows: {buf[:40]!r}")

    monkeypatch.setattr(lpm01a_protocol, "parse_lines", line_by_line)
    for size in (1, 9, 100, 4500, len(stream)):
        assert _decoded(stream, size) == (expected, [12, 345], len(expected))  # the same floats, bit for bit


def test_the_ascii_decoder_reads_any_other_formparse_lines():
    lines = [format_ascii(v) for v in (1e-3, 2e-3, 3e-3, 4e-3)]
    lines.insert(1, b"TimeStamp: 12ms, buff 00%")
    lines.insert(2, b"PowerShield > ack start")
    lines.insert(3, b" 1234+01")  # not the meter's form, still a sample line to parse_ascii
    lines.insert(4, b"12a4-05")  # a garbled sample: neither
    lines.insert(5, b"TimeStamp: 7")  # a garbled timestamp: neither
    stream = b"".join(line + (b"\r\n" if k % 3 else b"\n") for k, line in enumerate(lines))
    expected = [v for v in map(parse_ascii, lines) if v is not None]
    assert len(expected) == 5
    for size in (1, 7, len(stream)):
        assert _decoded(stream, size) == (expected, [12], 5)
    decoder = AsciiDecoder()
    assert decoder.feed(b"6409-0")[0].size == 0 and decoder.feed(b"7\r\n")[0].tolist() == [parse_ascii(b"6409-07")]
