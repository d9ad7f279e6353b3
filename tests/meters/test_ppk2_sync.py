"""A PPK2 stream has no delimiter: the decoder proves each sample boundary by the counter,
and never decodes a misaligned stream (its "currents" would reach 16 A)."""

from __future__ import annotations

import asyncio

from tests.support.sim import require_numpy

require_numpy()  # the meter protocols are numpy arrays

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fleet.meters.ppk2_protocol import SYNC_SAMPLES, Calibration, SampleDecoder, encode_samples  # noqa: E402
from fleet.sim.meters.pty_meter import PtyMeter  # noqa: E402
from fleet.transport.serial import open_transport  # noqa: E402
from tests.support.wait import DEADLINE_S, until  # noqa: E402

CALIBRATION = Calibration()
STEP_A = 0.5e-6  # within an ADC step of range 1 (0.43 µA): samples 1 µA apart stay apart


def _stream(n: int, base_a: float, counter0: int = 0) -> tuple[bytes, np.ndarray, np.ndarray]:
    """n samples, each its own current (base + 1 µA per sample) and D0..D7 = its index."""
    current = base_a + np.arange(n) % 1000 * 1e-6
    logic = (np.arange(n) % 256).astype(np.uint8)
    return encode_samples(current, logic, counter0, CALIBRATION), current, logic


def _decode(data: bytes, pieces: int = 1, seed: int = 0) -> tuple[SampleDecoder, np.ndarray, np.ndarray]:
    """Decoded in `pieces` reads cut at random bytes (as a tty hands them over)."""
    decoder = SampleDecoder(CALIBRATION, 3300)
    cuts = sorted(np.random.default_rng(seed).choice(np.arange(1, len(data)), pieces - 1, replace=False).tolist())
    out = [decoder.feed(data[a:b]) for a, b in zip([0, *cuts], [*cuts, len(data)])]
    return decoder, np.concatenate([c for c, _ in out]), np.concatenate([lg for _, lg in out])


def _same(current: np.ndarray, logic: np.ndarray, want_current: np.ndarray, want_logic: np.ndarray) -> None:
    assert len(current) == len(want_current)
    assert (logic == want_logic).all()
    assert current == pytest.approx(want_current, abs=STEP_A)


@pytest.mark.parametrize("pieces", [1, 7, 300])
def test_stale_bytes_of_an_earlier_run_cost_only_their_cut_samples(pieces):
    # What a PTY kept for the next opener: the 4,095 bytes its buffer holds, cut mid-sample
    # at both ends, then the new run's stream.
    old, old_current, old_logic = _stream(1100, 1e-3, counter0=17)
    new, new_current, new_logic = _stream(5000, 3e-3, counter0=40)
    decoder, current, logic = _decode(old[2:4097] + new, pieces, seed=pieces)
    # The first old sample is cut (2 bytes); the last old byte and the new run's first bytes
    # make no sample, and the new run's first whole sample proves the boundary again (its
    # head could be anything's tail).
    _same(current, logic, np.concatenate([old_current[1:1024], new_current[1:]]),
          np.concatenate([old_logic[1:1024], new_logic[1:]]))  # fmt: skip
    assert decoder.skipped == 2 and decoder.damaged == 1 + 4 and decoder.resyncs == 1


@pytest.mark.parametrize("pieces", [1, 5, 1000])
def test_a_byte_dropped_mid_stream_costs_the_sample_it_was_in_and_the_next(pieces):
    data, want_current, want_logic = _stream(6000, 2e-3)
    at = 2000 * 4 + 1
    decoder, current, logic = _decode(data[:at] + data[at + 1 :], pieces, seed=pieces)
    keep = ~np.isin(np.arange(6000), (2000, 2001))  # the cut sample, and the one proving the boundary again
    _same(current, logic, want_current[keep], want_logic[keep])
    assert decoder.resyncs == 1 and decoder.lost == 2 and decoder.damaged == 3 + 4


@pytest.mark.parametrize("pieces", [1, 9, 400])
def test_an_answer_written_inside_a_sample_is_skipped_with_that_sample(pieces):
    # An answer between the two halves of a sample (what an emulator whose two writers shared
    # the PTY could send).
    data, want_current, want_logic = _stream(3000, 4e-3)
    answer = b"Calibrated: 0\nR0: 1031.6400\nVDD: 3300\nEND\n"
    at = 300 * 4 + 2
    decoder, current, logic = _decode(data[:at] + answer + data[at:], pieces, seed=pieces)
    # The answer's last two bytes and the sample's second half read as a sample counting up:
    # so the boundary is proven by the next, and the cut sample is lost, whole.
    keep = np.arange(3000) != 300
    _same(current, logic, want_current[keep], want_logic[keep])
    assert decoder.resyncs == 1 and decoder.lost == 1
    assert decoder.damaged == 2 + len(answer) + 2


@pytest.mark.parametrize("pieces", [1, 3, 50])
def test_whole_samples_lost_keep_the_boundary_and_are_counted(pieces):
    data, want_current, want_logic = _stream(4000, 2e-3)
    gone = np.zeros(4000, dtype=bool)
    gone[1000:1016] = gone[3980:3985] = True  # a USB packet of 16 samples; 5 near the end
    kept = b"".join(data[4 * k : 4 * k + 4] for k in np.flatnonzero(~gone).tolist())
    decoder, current, logic = _decode(kept, pieces, seed=pieces)
    _same(current, logic, want_current[~gone], want_logic[~gone])
    assert decoder.lost == 21 and decoder.resyncs == 0 and decoder.skipped == decoder.damaged == 0


def test_samples_after_a_jump_wait_for_the_samples_that_confirm_it():
    data, want_current, _ = _stream(100, 2e-3)
    decoder = SampleDecoder(CALIBRATION, 3300)
    first, _ = decoder.feed(data[: 4 * 50] + data[4 * 60 : 4 * 63])  # 10 lost, then only 3 samples
    assert len(first) == 50 and decoder.lost == 0
    rest, _ = decoder.feed(data[4 * 63 :])
    assert rest == pytest.approx(want_current[60:], abs=STEP_A) and decoder.lost == 10


def test_bytes_that_never_count_up_are_never_decoded():
    noise = np.random.default_rng(3).integers(0, 256, 64_000, dtype=np.uint8).tobytes()
    decoder = SampleDecoder(CALIBRATION, 3300)
    current, _ = decoder.feed(noise)
    assert len(current) == 0 and decoder.skipped == len(noise) - (SYNC_SAMPLES * 4 - 1)
    data, want_current, want_logic = _stream(200, 2e-3)
    current, logic = decoder.feed(data)
    _same(current, logic, want_current, want_logic)


class _BurstThenAnswer:
    """A meter device whose one burst outgrows the PTY, and which answers every command."""

    ANSWER = b"<answer>"

    def __init__(self, burst: bytes) -> None:
        self.burst = burst
        self.collected = False

    def receive(self, data: bytes) -> bytes:
        return self.ANSWER

    def collect(self) -> bytes:
        if self.collected:
            return b""
        self.collected = True
        return self.burst


async def test_an_emulated_meter_never_writes_an_answer_inside_a_burst():
    burst = bytes(np.arange(256 * 1024) % 251 % 256)
    device = _BurstThenAnswer(burst)
    meter = PtyMeter(device, stream_interval_s=0.001)
    transport = await open_transport(meter.port, 115200)
    meter.start()
    try:
        await until(lambda: device.collected, "the burst to be collected")
        await asyncio.sleep(0.05)  # the burst fills the PTY and its write waits for the host
        await transport.write(b"?")
        await asyncio.sleep(0.05)  # the command is read while the burst's write still waits
        received = b""
        async with asyncio.timeout(DEADLINE_S):
            while len(received) < len(burst) + len(device.ANSWER):
                received += await transport.read()
    finally:
        await transport.close()
        await meter.stop()
    assert received == burst + device.ANSWER


class _DropsAByte:
    """A PPK2 emulator whose stream loses one byte, mid-sample, in its third burst."""

    def __init__(self, device) -> None:  # noqa: ANN001 - Ppk2Device
        self.device = device
        self.bursts = 0

    def receive(self, data: bytes) -> bytes:
        return self.device.receive(data)

    def collect(self) -> bytes:
        data = self.device.collect()
        if data:
            self.bursts += 1
            if self.bursts == 3:
                data = data[:401] + data[402:]
        return data


async def test_the_driver_skips_a_damaged_stretch_and_says_how_many_bytes():
    from fleet.meters.ppk2_driver import Ppk2Driver
    from fleet.sim.clock import FakeClock
    from fleet.sim.meters.activity import Activity
    from fleet.sim.meters.ppk2_emulator import Ppk2Device
    from fleet.sim.power import PowerModel

    model = PowerModel(idle_mw=6.6, active_mw=19.8, voltage_mv=3300)
    clock = FakeClock(1_000_000)
    device = Ppk2Device(Activity(model), clock)
    damaging = _DropsAByte(device)
    meter = PtyMeter(damaging)
    meter.start()
    transport = await open_transport(meter.port, 115200)
    try:
        driver = Ppk2Driver(transport, "EMU1")
        await driver.start()
        await until(lambda: device.measuring, "the emulator to read AVERAGE_START")
        chunks = []
        for step in range(6):  # a burst of 1,000 samples each
            clock.advance(10_000)
            await until(lambda: damaging.bursts > step, "the next burst")
        while sum(len(c.current_a) for c in chunks) < 6_000 - 2:
            chunks.append(await asyncio.wait_for(driver.read(), DEADLINE_S))
        await driver.stop()
    finally:
        await transport.close()
        await meter.stop()
    current = np.concatenate([c.current_a for c in chunks])
    assert len(current) == 6_000 - 2 and driver.lost == 2  # the cut sample and the one proving the boundary
    assert sum(c.damaged_bytes for c in chunks) == 3 + 4 and sum(c.lost_samples for c in chunks) == 2
    assert current == pytest.approx(model.idle_mw / 3300, abs=STEP_A)  # every sample decoded is the board's
    # The samples after the damage are on the meter's clock where they were taken.
    assert chunks[-1].end_us == pytest.approx(6_000 * 10.0)


class _Noise:
    """A device that answers as a PPK2 does, then streams bytes that are no samples."""

    def __init__(self, device) -> None:  # noqa: ANN001 - Ppk2Device
        self.device = device
        self.rng = np.random.default_rng(7)

    def receive(self, data: bytes) -> bytes:
        return self.device.receive(data)

    def collect(self) -> bytes:
        return self.rng.integers(0, 256, 64_000, dtype=np.uint8).tobytes() if self.device.measuring else b""


async def test_a_stream_with_no_samples_in_it_is_an_error_not_silence():
    from fleet.errors import ProtocolError
    from fleet.meters.ppk2_driver import Ppk2Driver
    from fleet.sim.clock import FakeClock
    from fleet.sim.meters.activity import Activity
    from fleet.sim.meters.ppk2_emulator import Ppk2Device
    from fleet.sim.power import PowerModel

    meter = PtyMeter(_Noise(Ppk2Device(Activity(PowerModel(6.6, 19.8, 3300)), FakeClock(0))))
    meter.start()
    transport = await open_transport(meter.port, 115200)
    try:
        driver = Ppk2Driver(transport, "EMU1")
        await driver.start()
        with pytest.raises(ProtocolError, match=r"PPK2 EMU1: \d+ bytes and no samples in them"):
            async with asyncio.timeout(DEADLINE_S):
                while True:
                    chunk = await driver.read()
                    assert not len(chunk.current_a)
        await driver.stop()
    finally:
        await transport.close()
        await meter.stop()
