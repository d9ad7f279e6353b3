"""The Nordic Power Profiler Kit II's serial protocol, both ends, without I/O.

As the `ppk2-api` client (PyPI, 0.9.2) and Nordic's nRF Connect Power Profiler speak it
over the PPK2's USB CDC port (VID 0x1915, PID 0xC00A):

- Host to PPK2: one opcode byte and its arguments. `GET_META_DATA` (0x19) makes the PPK2
  answer with its calibration as text lines `Key: value` ending in `END`;
  `REGULATOR_SET` (0x0D, b1, b2) sets the supply to (b1 - 3) * 256 + b2 - 32 + 800 mV;
  `SET_POWER_MODE` (0x11, 1 ampere meter | 2 source meter); `DEVICE_RUNNING_SET`
  (0x0C, 1 on | 0 off) switches the board's supply; `AVERAGE_START`/`AVERAGE_STOP`
  (0x06/0x07) start and stop the sample stream.
- PPK2 to host, while measuring: 100,000 samples a second, each a little-endian uint32:
  bits 0-13 ADC value, 14-16 current range (0..4, one shunt resistor each), 18-23 a
  6-bit counter (+1 per sample, so a host sees lost bytes), 24-31 the digital inputs
  D0..D7 sampled with it.

Current in amperes, with the calibration of range r from the metadata (the `ppk2-api`
formula, without its spike filter; the emulator's calibration makes it exact):

    x = (adc * 4 - O[r]) * (1.8 / 163840 / R[r])
    I = UG[r] * (x * (GS[r] * x + GI[r]) + S[r] * vdd_V + I[r])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fleet.errors import ProtocolError

USB_VID = 0x1915
USB_PID = 0xC00A
SAMPLE_RATE_HZ = 100_000
SAMPLE_BYTES = 4


class Command:
    """Opcodes (those ppk2-api sends)."""

    NO_OP = 0x00
    TRIGGER_SET = 0x01
    AVERAGE_START = 0x06
    AVERAGE_STOP = 0x07
    RANGE_SET = 0x08
    DEVICE_RUNNING_SET = 0x0C
    REGULATOR_SET = 0x0D
    SET_POWER_MODE = 0x11
    RES_USER_SET = 0x12
    SPIKE_FILTERING_ON = 0x15
    SPIKE_FILTERING_OFF = 0x16
    GET_META_DATA = 0x19
    RESET = 0x20
    SET_USER_GAINS = 0x25


# Argument bytes after each opcode (SET_USER_GAINS: range + float32).
ARGUMENTS = {
    Command.NO_OP: 0, Command.TRIGGER_SET: 2, Command.AVERAGE_START: 0, Command.AVERAGE_STOP: 0,
    Command.RANGE_SET: 1, Command.DEVICE_RUNNING_SET: 1, Command.REGULATOR_SET: 2, Command.SET_POWER_MODE: 1,
    Command.RES_USER_SET: 1, Command.SPIKE_FILTERING_ON: 0, Command.SPIKE_FILTERING_OFF: 0,
    Command.GET_META_DATA: 0, Command.RESET: 0, Command.SET_USER_GAINS: 5,
}  # fmt: skip

ADC_MULT = 1.8 / 163840
RANGES = 5
ADC_MAX = (1 << 14) - 1
_NOMINAL_R = (1031.64, 101.65, 10.15, 0.94, 0.043)  # shunt resistances, ohms


def regulator_mv(b1: int, b2: int) -> int:
    """The supply voltage a REGULATOR_SET asks for."""
    return (b1 - 3) * 256 + b2 - 32 + 800


def regulator_bytes(mv: int) -> tuple[int, int]:
    """REGULATOR_SET arguments for a voltage (800..5000 mV, as ppk2-api clamps it)."""
    diff = min(max(mv, 800), 5000) - 800 + 32
    return 3 + diff // 256, diff % 256


@dataclass(frozen=True, slots=True)
class Calibration:
    """Per-range calibration, as the metadata carries it (index = current range)."""

    r: tuple[float, ...] = _NOMINAL_R
    gs: tuple[float, ...] = (0.0,) * RANGES
    gi: tuple[float, ...] = (1.0,) * RANGES
    o: tuple[float, ...] = (0.0,) * RANGES
    s: tuple[float, ...] = (0.0,) * RANGES
    i: tuple[float, ...] = (0.0,) * RANGES
    ug: tuple[float, ...] = (1.0,) * RANGES
    hw: int = 9173
    ia: int = 56

    def metadata(self, vdd_mv: int, mode: int) -> bytes:
        """The GET_META_DATA answer."""
        lines = ["Calibrated: 0"]
        for key, values in (("R", self.r), ("GS", self.gs), ("GI", self.gi), ("O", self.o)):
            lines += [f"{key}{n}: {v:.4f}" for n, v in enumerate(values)]
        lines += [f"VDD: {vdd_mv}", f"HW: {self.hw}", f"mode: {mode}"]
        for key, values in (("S", self.s), ("I", self.i), ("UG", self.ug)):
            lines += [f"{key}{n}: {v:.4f}" for n, v in enumerate(values)]
        lines += [f"IA: {self.ia}", "END"]
        return ("\n".join(lines) + "\n").encode()

    @classmethod
    def parse(cls, text: str) -> Calibration:
        """Calibration from a metadata answer; ProtocolError if it is not one."""
        if "END" not in text:
            raise ProtocolError(f"PPK2 metadata without END: {text[:80]!r}")
        pairs = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)

        def column(key: str, default: tuple[float, ...]) -> tuple[float, ...]:
            try:
                return tuple(float(pairs.get(f"{key}{n}", default[n])) for n in range(RANGES))
            except ValueError as exc:
                raise ProtocolError(f"PPK2 metadata: bad {key} value ({exc})") from None

        base = cls()
        # A zero shunt value is a known PPK2 calibration fault: ppk2-api keeps the nominal one.
        r = tuple(v if v != 0 else nominal for v, nominal in zip(column("R", base.r), _NOMINAL_R))
        return cls(r=r, gs=column("GS", base.gs), gi=column("GI", base.gi), o=column("O", base.o),
                   s=column("S", base.s), i=column("I", base.i), ug=column("UG", base.ug))  # fmt: skip


@dataclass(slots=True)
class SampleDecoder:
    """PPK2 stream bytes to samples; keeps a partial sample between reads and counts lost samples.

    Vectorised for 100,000 samples a second per meter: the current of every possible
    (range, ADC value) pair is computed once (`_current`, 2**17 entries: 1 MiB), so a
    sample costs one table look-up; the counter and the digital inputs are read as byte
    columns of the stream, without shifting 32-bit words.
    """

    calibration: Calibration
    vdd_mv: int
    lost: int = 0
    samples: int = 0
    _rest: bytes = b""
    _counter: int | None = None
    _current: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        c = self.calibration
        # Bits 0-16 of a sample: ADC value and range; ranges 5-7 do not exist and read as range 4.
        rng = np.minimum(np.arange(1 << 17) >> 14, RANGES - 1)
        adc = (np.arange(1 << 17) & ADC_MAX).astype(np.float64) * 4
        r, gs, gi, o, s, i, ug = (np.asarray(v, dtype=np.float64)[rng] for v in (c.r, c.gs, c.gi, c.o, c.s, c.i, c.ug))
        x = (adc - o) * (ADC_MULT / r)
        self._current = ug * (x * (gs * x + gi) + (s * (self.vdd_mv / 1000) + i))

    def feed(self, data: bytes) -> tuple[np.ndarray, np.ndarray]:
        """(current in amperes, digital inputs D0..D7 as uint8) of the whole samples in data."""
        buf = self._rest + data if self._rest else data
        whole = len(buf) - len(buf) % SAMPLE_BYTES
        self._rest = buf[whole:]
        raw = np.frombuffer(buf, dtype="<u4", count=whole // SAMPLE_BYTES)
        self.samples += len(raw)
        if not len(raw):
            return np.empty(0), np.empty(0, dtype=np.uint8)
        columns = raw.view(np.uint8).reshape(-1, SAMPLE_BYTES)  # byte 2: counter << 2 (bits 18-23), byte 3: D0-D7
        self._count_lost(columns[:, 2] >> 2)
        return self._current.take(raw & 0x1FFFF), columns[:, 3]

    def _count_lost(self, counters: np.ndarray) -> None:
        """Lost samples from the 6-bit counters (uint8), also across reads."""
        first = int(counters[0])
        if self._counter is not None:
            self.lost += (first - self._counter - 1) % 64
        self._counter = int(counters[-1])
        steps = (counters[1:] - counters[:-1] - np.uint8(1)) & np.uint8(0x3F)  # uint8: wraps like the counter
        if steps.any():
            self.lost += int(steps.sum(dtype=np.int64))


def encode_samples(current_a: np.ndarray, logic: np.ndarray, counter0: int, calibration: Calibration) -> bytes:
    """Stream bytes for currents (A) and digital inputs, counters from counter0: each
    sample in the most sensitive range that holds it (what the PPK2's auto-ranging does)."""
    r = np.asarray(calibration.r)
    full_scale = ADC_MAX * 4 * ADC_MULT / r  # amperes each range holds
    rng = np.minimum(np.searchsorted(full_scale, np.maximum(current_a, 0.0)), RANGES - 1)
    adc = np.clip(np.rint(np.maximum(current_a, 0.0) * r[rng] / ADC_MULT / 4), 0, ADC_MAX).astype(np.uint32)
    counters = (counter0 + np.arange(len(adc), dtype=np.uint32)) % 64
    raw = adc | (rng.astype(np.uint32) << 14) | (counters << 18) | (logic.astype(np.uint32) << 24)
    return raw.astype("<u4").tobytes()
