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


SYNC_SAMPLES = 8  # samples in a row with consecutive counters: a sample boundary proven


@dataclass(slots=True)
class SampleDecoder:
    """PPK2 stream bytes to samples; keeps a partial sample between reads and counts lost samples.

    The stream has no delimiter, so a sample boundary is proven by the 6-bit counter:
    decoding starts at the first of `SYNC_SAMPLES` samples that count up by one (a host
    that opens the port mid-stream, or finds stale bytes there, skips to it). A counter
    that then jumps is lost samples when the samples after the jump count up again from
    it; otherwise the boundary was lost (a byte dropped, or bytes that are no samples in
    the stream), and decoding stops there and hunts for the next proven boundary, resuming
    at the second sample of the run that proves it: the first one's counter is proven, but
    its ADC bytes may be the tail of what broke the stream. So a misaligned stream is never
    decoded: its "currents" would be any of the ranges' values, up to 16 A. Samples after a
    jump too near the end of a read wait for the next read to confirm it.

    Vectorised for 100,000 samples a second per meter: the current of every possible
    (range, ADC value) pair is computed once (`_current`, 2**17 entries: 1 MiB), so a
    sample costs one table look-up; the counter and the digital inputs are read as byte
    columns of the stream, without shifting 32-bit words.
    """

    calibration: Calibration
    vdd_mv: int
    lost: int = 0  # samples the counters show missing (modulo 64 across a skipped stretch)
    samples: int = 0
    skipped: int = 0  # bytes skipped to find the first sample boundary (what a closed port kept)
    damaged: int = 0  # bytes skipped after the boundary was lost
    resyncs: int = 0  # times the boundary was lost
    _rest: bytes = b""
    _counter: int | None = None  # the last decoded sample's
    _synced: bool = False
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
        """(current in amperes, digital inputs D0..D7 as uint8) of the samples in data that
        lie on a proven boundary (see the class doc)."""
        buf = self._rest + data if self._rest else data
        pieces: list[np.ndarray] = []
        pos = 0
        while True:
            if not self._synced:
                start = _boundary(buf, pos)
                if start is None:  # keep what a boundary proven by later bytes may start in
                    keep = max(pos, len(buf) - SYNC_SAMPLES * SAMPLE_BYTES + 1)
                    self._skip(keep - pos)
                    pos = keep
                    break
                if self._counter is not None:  # a resync: see the class doc
                    start += SAMPLE_BYTES
                self._skip(start - pos)
                pos, self._synced = start, True
            raw = np.frombuffer(buf, dtype="<u4", offset=pos, count=(len(buf) - pos) // SAMPLE_BYTES)
            good, aligned = self._trusted(raw.view(np.uint8).reshape(-1, SAMPLE_BYTES)[:, 2] >> 2)
            pieces.append(raw[:good])
            pos += good * SAMPLE_BYTES
            if aligned:
                break
            self._synced = False
            self.resyncs += 1
        self._rest = buf[pos:]
        raw = pieces[0] if len(pieces) == 1 else np.concatenate(pieces) if pieces else np.empty(0, dtype="<u4")
        self.samples += len(raw)
        if not len(raw):
            return np.empty(0), np.empty(0, dtype=np.uint8)
        return self._current.take(raw & 0x1FFFF), raw.view(np.uint8).reshape(-1, SAMPLE_BYTES)[:, 3]

    def _skip(self, n: int) -> None:
        if self._counter is None:
            self.skipped += n
        else:
            self.damaged += n

    def _trusted(self, counters: np.ndarray) -> tuple[int, bool]:
        """(how many of these samples to decode, whether the boundary still holds after them);
        counts the samples lost at jumps the samples after them confirm."""
        n = len(counters)
        if not n:
            return 0, True
        seq = np.empty(n + 1, dtype=np.uint8)
        seq[0] = (int(counters[0]) - 1) % 64 if self._counter is None else self._counter  # first boundary: no jump
        seq[1:] = counters
        steps = _jumps(seq)
        good, aligned = n, True
        for b in np.flatnonzero(steps).tolist():
            if b + SYNC_SAMPLES > n:  # too few samples after the jump to tell: the next read will
                good = b
                break
            if steps[b + 1 : b + SYNC_SAMPLES].any():  # no count up from it: not samples
                good, aligned = b, False
                break
            self.lost += int(steps[b])
        if good:
            self._counter = int(counters[good - 1])
        return good, aligned


def _jumps(counters: np.ndarray) -> np.ndarray:
    """Samples missing between each 6-bit counter (uint8) and the one before it: 0 when they count up."""
    return (counters[1:] - counters[:-1] - np.uint8(1)) & np.uint8(0x3F)  # uint8: wraps like the counter


def _boundary(buf: bytes, pos: int) -> int | None:
    """The first offset from pos where SYNC_SAMPLES samples count up by one; None if none does."""
    found: int | None = None
    for shift in range(SAMPLE_BYTES):
        start = pos + shift
        count = (len(buf) - start) // SAMPLE_BYTES
        if count < SYNC_SAMPLES or (found is not None and start >= found):
            continue
        counters = np.frombuffer(buf, dtype=np.uint8, offset=start, count=count * SAMPLE_BYTES)[2::SAMPLE_BYTES] >> 2
        ones = np.zeros(count, dtype=np.int64)
        ones[1:] = np.cumsum(_jumps(counters) == 0)
        runs = np.flatnonzero(ones[SYNC_SAMPLES - 1 :] - ones[: count - SYNC_SAMPLES + 1] == SYNC_SAMPLES - 1)
        if len(runs):
            at = start + int(runs[0]) * SAMPLE_BYTES
            found = at if found is None else min(found, at)
    return found


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
