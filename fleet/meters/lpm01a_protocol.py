"""The ST X-NUCLEO-LPM01A (PowerShield) text protocol, as MLPerf Tiny's EnergyRunner drives it.

Commands are text lines (`\\n`-terminated); each is answered `ack <command> [args]` or
`error <command>` followed by `Error detail: <why>`, every line after the prompt
`PowerShield > `. The host takes control with `htc`, configures (`volt 3300m`,
`freq 1k`, `acqtime inf`, `output current|energy`, `format ascii_dec|bin_hexa`,
`trigsrc sw|d7`, `eventsrc d7 fal`, `pwr on|off|auto`), `start`s, and `stop`s
("Acquisition completed" ends the stream). While acquiring:

- `ascii_dec`: one line per sample, four-digit mantissa and a signed two-digit power of
  ten, e.g. `6409-07` = 6409e-7 A = 640.9 µA (joules per sample with `output energy`);
  at most 10 kHz unbounded (the serial line's limit).
- `bin_hexa`: two bytes per sample, big-endian: the top nibble an exponent e, the other
  12 bits a mantissa m, value = m * 16**-e (`52A0` = 0x2A0 * 16**-5 = 640.9 µA).
- `TimeStamp: <ms>ms, buff <fill>%` lines (ascii_dec only) mark each falling edge on the
  Arduino connector's D7 when `eventsrc d7 fal` is set: where EnergyRunner wires the
  board's timestamp GPIO. Millisecond resolution.

USB identity: ST's generic virtual COM port, 0x0483:0x5740, so fleet only treats a port
as an LPM01A when devices.toml says so.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from fleet.errors import ProtocolError

USB_VID = 0x0483
USB_PID = 0x5740
PROMPT = "PowerShield > "
FREQUENCIES = {"100k": 100_000, "50k": 50_000, "20k": 20_000, "10k": 10_000, "5k": 5_000, "2k": 2_000,
               "1k": 1_000, "500": 500, "200": 200, "100": 100, "50": 50, "20": 20, "10": 10, "5": 5,
               "2": 2, "1": 1}  # fmt: skip
ASCII_MAX_HZ = 10_000
_SUFFIX = {"u": 1e-6, "m": 1e-3, "k": 1e3}
_ASCII_VALUE = re.compile(rb"^(\d{4})([+-]\d{2})$")
TIMESTAMP = re.compile(rb"^TimeStamp: (\d+)ms, buff (\d+)%$")


def parse_number(text: str) -> float:
    """`3300m`, `2-3`, `100u`, `5` -> float; ValueError otherwise (the LPM01A's number syntax)."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([umk]|[+-]\d{1,2})?", text)
    if not m:
        raise ValueError(f"not a number: {text!r}")
    value, unit = float(m.group(1)), m.group(2)
    if unit in _SUFFIX:
        return value * _SUFFIX[unit]
    return value * 10 ** int(unit) if unit else value


def format_ascii(value: float) -> bytes:
    """A sample as `dddd[+-]ee` (four significant digits)."""
    if value <= 0:
        return b"0000+00"
    exp = math.floor(math.log10(value)) - 3
    mantissa = round(value / 10**exp)
    if mantissa >= 10_000:
        mantissa, exp = round(mantissa / 10), exp + 1
    return f"{mantissa:04d}{exp:+03d}".encode()


def parse_ascii(line: bytes) -> float | None:
    """A sample line's value, or None if the line is not a sample."""
    m = _ASCII_VALUE.match(line.strip())
    return int(m.group(1)) * 10.0 ** int(m.group(2)) if m else None


# 10**e for the two-digit exponents of a sample line, as parse_ascii computes them (index e + 99).
_POW10 = np.array([10.0**e for e in range(-99, 100)])
_PLACES = np.array([1000, 100, 10, 1], dtype=np.int64)
_LINE = 9  # `dddd±ee\r\n`, as the meter ends its lines
_CRLF = np.array([13, 10], dtype=np.uint8)
_PLUS, _MINUS = ord("+"), ord("-")


@dataclass(slots=True)
class AsciiDecoder:
    """`ascii_dec` stream bytes to samples and D7 timestamps; keeps a partial line between feeds.

    Vectorised for 10,000 lines a second per meter: the `TimeStamp` lines (one per
    inference) are cut out of a batch, and the rest, when it is all `dddd±ee\r\n` as the
    meter sends it, is read as a table of 9-byte rows: digits checked and converted as
    byte columns, the power of ten by a table look-up, giving the values `parse_ascii`
    gives. A batch in any other form (another line ending, a stray line) is read line by
    line, as the driver read every line before.
    """

    samples: int = 0
    _rest: bytes = b""

    def feed(self, data: bytes) -> tuple[np.ndarray, list[int]]:
        """(the samples of the whole lines in data, in amperes or joules; the TimeStamp lines' ms)."""
        buf = self._rest + data if self._rest else data
        whole = buf.rfind(b"\n") + 1
        self._rest = buf[whole:]
        buf = buf[:whole]
        stamps: list[int] = []
        if b"T" in buf:
            parts, pos = [], 0
            while (start := buf.find(b"TimeStamp", pos)) >= 0:
                end = buf.index(b"\n", start) + 1
                if (stamp := TIMESTAMP.match(buf[start:end].strip())) is None:
                    break  # not one: the line-by-line path says what it is
                parts.append(buf[pos:start])
                stamps.append(int(stamp.group(1)))
                pos = end
            parts.append(buf[pos:])
            buf = b"".join(parts)
        samples = self._rows(buf)
        if samples is None:
            samples, more = parse_lines(buf)
            stamps += more
        self.samples += len(samples)
        return samples, stamps

    @staticmethod
    def _rows(buf: bytes) -> np.ndarray | None:
        """The values of `buf` if it is all sample lines as the meter ends them, else None."""
        n = len(buf) // _LINE
        if n * _LINE != len(buf):
            return None
        rows = np.frombuffer(buf, dtype=np.uint8).reshape(n, _LINE)
        digits = rows[:, :7] - np.uint8(48)  # a byte below '0' wraps above 9
        sign = rows[:, 4]
        if not ((rows[:, 7:] == _CRLF).all() and (digits[:, :4] <= 9).all() and (digits[:, 5:] <= 9).all()
                and ((sign == _PLUS) | (sign == _MINUS)).all()):  # fmt: skip
            return None
        digits = digits.astype(np.int64)
        exponent = (digits[:, 5] * 10 + digits[:, 6]) * (44 - sign.astype(np.int64))  # '+' 43, '-' 45
        return (digits[:, :4] @ _PLACES) * _POW10[exponent + 99]


def parse_lines(buf: bytes) -> tuple[np.ndarray, list[int]]:
    """(the sample values, the TimeStamp lines' ms) of `buf`'s lines, one line at a time."""
    values, stamps = [], []
    for line in buf.split(b"\n"):
        value = parse_ascii(line)
        if value is not None:
            values.append(value)
        elif (stamp := TIMESTAMP.match(line.strip())) is not None:
            stamps.append(int(stamp.group(1)))
    return np.asarray(values, dtype=np.float64), stamps


def encode_bin_hexa(values: np.ndarray) -> bytes:
    """Samples as 2-byte big-endian nibble-exponent words (the finest exponent that fits)."""
    v = np.maximum(values, 0.0)
    with np.errstate(divide="ignore"):
        e = np.where(v > 0, np.floor(np.log(0xFFF / np.where(v > 0, v, 1.0)) / np.log(16)), 15)
    e = np.clip(e, 0, 15).astype(np.int64)
    m = np.clip(np.rint(v * 16.0**e), 0, 0xFFF).astype(np.uint16)
    return ((e.astype(np.uint16) << 12) | m).astype(">u2").tobytes()


def decode_bin_hexa(data: bytes) -> np.ndarray:
    words = np.frombuffer(data[: len(data) - len(data) % 2], dtype=">u2").astype(np.int64)
    return (words & 0xFFF) * 16.0 ** -(words >> 12)


def ack_args(line: str, command: str) -> list[str] | None:
    """Arguments of `ack <command> ...`; None for another line; ProtocolError for `error <command>`."""
    text = line.replace(PROMPT, "").strip()
    if text.startswith(f"ack {command}"):
        return text[len(f"ack {command}") :].split()
    if text.startswith(f"error {command}"):
        raise ProtocolError(f"LPM01A refused {command!r}")
    return None
