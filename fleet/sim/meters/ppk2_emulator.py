"""A PPK2 emulator, device side, without I/O: what `fleet sim --meter ppk2` puts on a PTY.

It answers the PPK2 protocol (`fleet.meters.ppk2_protocol`) exactly as far as ppk2-api
and fleet's driver use it, and while measuring streams 100,000 samples a second of the
board's `Activity`: its modelled supply current, with the marker line on digital input
D<marker_channel>. The calibration is ideal (every offset 0, gains 1), so a decoded
sample is the modelled current to within the ADC step of its range (43 nA in range 0,
0.43 µA in range 1, 4.3 µA in range 2). The sample clock is the board's clock, so with a
fake clock every sample is exact.

What it does not model: the PPK2's own supply output (in source mode the board is not
really powered by it; `DEVICE_RUNNING_SET` off makes the meter read 0 A, the virtual board
keeps running), range-switching transients, and noise.
"""

from __future__ import annotations

from fleet.sim.meters.activity import Activity
from fleet.meters.ppk2_protocol import ARGUMENTS, SAMPLE_RATE_HZ, Calibration, Command, encode_samples, regulator_mv
from fleet.sim.clock import Clock

PERIOD_US = 1e6 / SAMPLE_RATE_HZ
_MODES = {1: 1, 2: 2}  # SET_POWER_MODE argument -> metadata "mode" (1 ampere meter, 2 source meter)


class Ppk2Device:
    """One emulated PPK2; `receive` host bytes, `collect` the samples due by now."""

    def __init__(self, activity: Activity, clock: Clock, *, marker_channel: int = 0,
                 calibration: Calibration = Calibration()) -> None:  # fmt: skip
        if not 0 <= marker_channel <= 7:
            raise ValueError(f"marker channel D{marker_channel}: the PPK2 has D0..D7")
        self.activity = activity
        self.clock = clock
        self.marker_bit = 1 << marker_channel
        self.calibration = calibration
        self.vdd_mv = 3300
        self.mode = 2
        self.dut_on = False
        self.measuring = False
        self.sent = 0  # samples since measuring started
        self._t0_us = 0.0
        self._counter = 0
        self._pending = b""

    def receive(self, data: bytes) -> bytes:
        """Commands from the host; returns the answer (only GET_META_DATA has one)."""
        buf = self._pending + data
        out = b""
        i = 0
        while i < len(buf):
            op = buf[i]
            need = ARGUMENTS.get(op, 0)  # an unknown opcode is skipped alone, as the firmware does
            if i + 1 + need > len(buf):
                break
            args = buf[i + 1 : i + 1 + need]
            i += 1 + need
            out += self._command(op, args)
        self._pending = buf[i:]
        return out

    def _command(self, op: int, args: bytes) -> bytes:
        if op == Command.GET_META_DATA:
            return self.calibration.metadata(self.vdd_mv, self.mode)
        if op == Command.REGULATOR_SET:
            self.vdd_mv = regulator_mv(args[0], args[1])
        elif op == Command.SET_POWER_MODE:
            self.mode = _MODES.get(args[0], self.mode)
        elif op == Command.DEVICE_RUNNING_SET:
            self.dut_on = args[0] == 1
        elif op == Command.AVERAGE_START and not self.measuring:
            self.measuring, self.sent = True, 0
            self._t0_us = float(self.clock.now_us())
        elif op == Command.AVERAGE_STOP:
            self.measuring = False
        elif op == Command.RESET:
            self.measuring, self.dut_on = False, False
        return b""

    @property
    def t0_us(self) -> float:
        """Clock time of the first sample of this measurement."""
        return self._t0_us

    def collect(self) -> bytes:
        """Stream bytes of every sample finished by now, as far as the board's activity is
        decided (nothing when not measuring)."""
        if not self.measuring:
            return b""
        now = self.activity.known_until(self.clock.now_us())
        due = int((now - self._t0_us) // PERIOD_US) - self.sent
        if due <= 0:
            return b""
        t0 = self._t0_us + self.sent * PERIOD_US
        # Source mode: the PPK2 supplies vdd; ampere mode: the board's own supply runs through it.
        volts = self.vdd_mv if self.mode == 2 else self.activity.model.voltage_mv
        samples = self.activity.render(t0, due, PERIOD_US, volts, now)
        current = samples.current_a if self.dut_on or self.mode == 1 else samples.current_a * 0.0
        data = encode_samples(current, samples.marker * self.marker_bit, self._counter, self.calibration)
        self.sent += due
        self._counter = (self._counter + due) % 64
        self.activity.forget_before(t0)
        return data
