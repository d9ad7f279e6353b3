"""The LPM01A's D7 timestamp lines lock its clock to the board's (fleet.meters.edge_clock),
so timestamp windows land on the inference even when the host's mapping is far off."""

from __future__ import annotations

import math

import pytest

from fleet.sim.meters.activity import Activity
from fleet.meters.edge_clock import EdgeClock
from fleet.meters.energy import EnergyReducer, ResultMark
from fleet.meters.lpm01a_driver import Lpm01aDriver
from fleet.sim.meters.lpm01a_emulator import Lpm01aDevice
from fleet.sim.clock import FakeClock
from fleet.sim.power import PowerModel

MODEL = PowerModel(idle_mw=6.6, active_mw=19.8, voltage_mv=3300)
T0 = 7_000_000  # clock time the meter starts acquiring
BOARD_BOOT = 2_000_000  # board time = clock - BOARD_BOOT
OFFSET = BOARD_BOOT - T0  # meter time - board time

def test_pairs_narrow_the_offset_to_the_sample_period():
    clock = EdgeClock(sample_us=100.0)
    true = 123_456.7
    for k in range(40):
        device = 1_000 + k * 20_013  # the sub-millisecond phase moves from edge to edge
        fall = device + true + (k * 37 % 100)  # the meter sees it up to one sample late
        clock.add_result(device, device + true + 6_000)  # the host's estimate: 6 ms off
        clock.add_edge(math.floor(fall / 1000) * 1000)
        assert clock.locked
        assert abs(clock.offset_us - true) <= clock.error_us
    assert clock.error_us <= 100.0
    assert clock.unmatched_edges == clock.unmatched_results == 0

def test_edges_and_results_without_a_partner_are_counted():
    clock = EdgeClock(sample_us=100.0)
    for k in range(10):
        clock.add_result(k * 20_000, k * 20_000 + 300)
        clock.add_edge(k * 20_000)
    clock.add_edge(205_000)  # a glitch on the line: no result
    clock.add_result(220_000, 220_300)
    clock.add_edge(220_000)
    clock.add_result(240_000, 240_300)  # its edge is lost
    clock.add_result(260_000, 260_300)
    clock.add_edge(260_000)
    assert clock.unmatched_edges == 1 and clock.unmatched_results == 1
    assert abs(clock.offset_us) <= clock.error_us <= 550

class DeviceTransport:
    """The emulator on a fake clock as the driver's transport: each read advances 5 ms."""

    def __init__(self, device: Lpm01aDevice, clock: FakeClock) -> None:
        self.device, self.clock, self.pending = device, clock, b""

    async def write(self, data: bytes) -> None:
        self.pending += self.device.receive(data)

    async def read(self) -> bytes:
        if self.pending:
            out, self.pending = self.pending, b""
            return out
        self.clock.advance(5_000)
        return self.device.collect()

async def two_reducers(spans, latency, marks):  # noqa: ANN001, ANN201
    """The emulated LPM01A (10 kHz, D7 timestamp lines, on a fake clock) playing `spans`, read
    by its driver into two timestamp reducers; `marks(n, device_time, host_estimate, edges)`
    gives each result's two ResultMarks. Returns (driver, first reducer's, second's energies)."""
    clock = FakeClock(T0)
    activity = Activity(MODEL)
    for span in spans:
        activity.add_span(*span)
    driver = Lpm01aDriver(DeviceTransport(Lpm01aDevice(activity, clock), clock), "LPM42", freq="10k")
    await driver.start()
    reducers, outs = (EnergyReducer("timestamp"), EnergyReducer("timestamp")), ([], [])

    async def read() -> None:
        chunk = await driver.read()
        for reducer, out in zip(reducers, outs, strict=True):
            out += reducer.feed_samples(chunk.t0_us, chunk.period_us, chunk.current_a, 3.3)

    for n, (_, end) in enumerate(spans):
        while clock.now_us() < end + 2_000:
            await read()
        device = end - BOARD_BOOT
        host_estimate = end - T0 + 1_500  # the host's mapping: 1.5 ms late
        driver.device_clock.add_result(device, host_estimate)
        for reducer, out, mark in zip(reducers, outs, marks(n + 1, device, host_estimate, driver.device_clock),
                                      strict=True):  # fmt: skip
            out += reducer.feed_result(mark)
    for _ in range(10):
        await read()
    return driver, outs[0], outs[1]


async def test_the_driver_locks_the_board_clock_from_the_emulators_timestamp_lines():
    latency = 3_000
    # Every 20.037 ms: the edges fall at sub-millisecond phases all over a millisecond.
    spans = [(T0 + 10_000 + k * 20_037, T0 + 10_000 + k * 20_037 + latency) for k in range(40)]

    def marks(n, device, host_estimate, edges):  # noqa: ANN001, ANN202 - aligned by the lock, mapped by the host
        meter_end = edges.to_meter(device)
        return ResultMark(n, device, latency, meter_end or host_estimate), ResultMark(n, device, latency, host_estimate)

    driver, out_aligned, out_mapped = await two_reducers(spans, latency, marks)
    edges = driver.device_clock
    assert edges.locked and edges.unmatched_results == 0
    assert abs(edges.offset_us - OFFSET) <= edges.error_us <= 100.0  # one 10 kHz sample
    exact = MODEL.active_mw * latency / 1000
    # docs/power.md: |dE| <= eps * (P_active - P_idle), eps = the offset's error + one sample
    bound = (edges.error_us + driver.period_us) * (MODEL.active_mw - MODEL.idle_mw) / 1000
    later = out_aligned[20:]
    assert len(out_aligned) == 40 and all(abs(e.energy_uj - exact) <= bound for e in later)
    # The host's mapping alone, 1.5 ms off: half of each window on idle time.
    assert all(e.energy_uj < 0.8 * exact for e in out_mapped[20:])


async def test_a_periodic_boards_windows_move_onto_its_current_pulse():
    # Every 20 ms exactly: each edge has the same sub-millisecond phase, so the lock stays
    # about ±0.55 ms wide and a 444 µs window placed by it alone misses most of its inference.
    latency = 444
    spans = [(T0 + 10_337 + k * 20_000, T0 + 10_337 + k * 20_000 + latency) for k in range(40)]

    def marks(n, device, _host_estimate, edges):  # noqa: ANN001, ANN202 - moved within ε, placed by the lock
        meter_end, search = edges.to_meter(device), edges.error_us + edges.sample_us
        return ResultMark(n, device, latency, meter_end, search), ResultMark(n, device, latency, meter_end)

    driver, out_refined, out_placed = await two_reducers(spans, latency, marks)
    edges = driver.device_clock
    assert edges.locked and edges.error_us >= 400.0  # what a periodic board leaves the lock at
    assert abs(edges.offset_us - OFFSET) <= edges.error_us
    exact = MODEL.active_mw * latency / 1000
    step = MODEL.active_mw - MODEL.idle_mw
    assert len(out_refined) == len(out_placed) == 40
    assert min(e.energy_uj for e in out_placed) < 0.8 * exact  # placed by the lock alone: up to ε off
    # docs/power.md: moved onto the pulse, exact - (sample / 2) * (P_active - P_idle) <= E <= exact
    for e in out_refined:
        assert exact - driver.period_us / 2 * step / 1000 - 1e-9 <= e.energy_uj <= exact + 1e-9
        assert e.duration_us == pytest.approx(latency)
