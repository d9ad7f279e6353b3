"""An X-NUCLEO-LPM01A emulator, device side, without I/O: `fleet sim --meter lpm01a`.

Speaks the text protocol of `fleet.meters.lpm01a_protocol` (the commands EnergyRunner
sends, and `powershield`, `version`, `status`, `range`, `echo`), and while acquiring
streams the board's `Activity` at `freq`: the supply current (`output current`) or the
energy of each sample period (`output energy`), in `ascii_dec` or `bin_hexa`, plus a
`TimeStamp` line at each falling edge of the marker (D7, `eventsrc d7 fal`, ascii only).
`acqtime` ends the acquisition ("Acquisition completed"); `trigsrc d7` waits for the
marker's first rising edge. Not modelled: `acqmode`/`funcmode` ranges, calibration,
`targrst` and `pwr` cutting the virtual board's supply (with `pwr off` it reads 0 A).
"""

from __future__ import annotations

import numpy as np

from fleet.sim.meters.activity import Activity
from fleet.meters.lpm01a_protocol import (
    ASCII_MAX_HZ, FREQUENCIES, PROMPT, encode_bin_hexa, format_ascii, parse_number,
)  # fmt: skip
from fleet.sim.clock import Clock

VERSION = "1.0.6"


class _Refused(Exception):
    pass


class Lpm01aDevice:
    """One emulated LPM01A; `receive` host bytes, `collect` the stream due by now."""

    def __init__(self, activity: Activity, clock: Clock, *, serial: str = "0000000000") -> None:
        self.activity = activity
        self.clock = clock
        self.serial = serial
        self.controlled = False
        self.voltage_mv = 3300
        self.freq_hz = 100
        self.acqtime_us: int | None = 10_000_000  # None: infinite
        self.output = "current"
        self.format = "ascii_dec"
        self.trigsrc = "sw"
        self.events = False
        self.power = "auto"
        self.acquiring = False
        self.sent = 0
        self._t0_us = 0.0
        self._armed = False  # trigsrc d7: waiting for the marker's rising edge
        self._level = False
        self._line = b""

    def receive(self, data: bytes) -> bytes:
        buf = self._line + data
        out = b""
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            text = line.decode("ascii", "replace").strip()
            if text:
                out += self._command(text)
        self._line = buf
        return out

    def _command(self, text: str) -> bytes:
        words = text.split()
        name, args = words[0], words[1:]
        handler = getattr(self, f"_cmd_{name}", None)
        if handler is None:
            return self._error(name, f"command '{name}' unknown")
        try:
            answer = handler(args)
        except (_Refused, ValueError, IndexError) as exc:
            return self._error(name, str(exc) or "bad argument")
        return f"{PROMPT}ack {text}\r\n".encode() + (answer or b"")

    @staticmethod
    def _error(name: str, detail: str) -> bytes:
        return f"{PROMPT}error {name}\r\n{PROMPT}Error detail: {detail}\r\n".encode()

    # --- commands --------------------------------------------------------------------

    def _cmd_htc(self, _: list[str]) -> None:
        self.controlled = True

    def _cmd_hrc(self, _: list[str]) -> None:
        self.controlled = False

    def _cmd_powershield(self, _: list[str]) -> bytes:
        return f"{PROMPT}PowerShield present {self.serial}\r\n".encode()

    def _cmd_version(self, _: list[str]) -> bytes:
        return f"{PROMPT}{VERSION}\r\n".encode()

    def _cmd_status(self, _: list[str]) -> bytes:
        return f"{PROMPT}ok\r\n".encode()

    def _cmd_range(self, _: list[str]) -> bytes:
        return f"{PROMPT}100n 50m\r\n".encode()  # amperes, dynamic mode

    def _cmd_echo(self, args: list[str]) -> bytes:
        return f"{PROMPT}{' '.join(args)}\r\n".encode()

    def _cmd_lcd(self, _: list[str]) -> None:
        self._need_control()

    def _cmd_volt(self, args: list[str]) -> bytes | None:
        self._need_control()
        if args[0] == "get":
            return f"{PROMPT}{self.voltage_mv / 1000:.3f}V\r\n".encode()
        mv = round(parse_number(args[0]) * 1000)
        if not 1800 <= mv <= 3300:
            raise _Refused("voltage out of range [1800m; 3300m]")
        self.voltage_mv = mv
        return None

    def _cmd_freq(self, args: list[str]) -> None:
        self._need_control()
        if args[0] not in FREQUENCIES:
            raise _Refused(f"frequency {args[0]} not in {', '.join(FREQUENCIES)}")
        self.freq_hz = FREQUENCIES[args[0]]

    def _cmd_acqtime(self, args: list[str]) -> None:
        self._need_control()
        if args[0] in ("0", "inf"):
            self.acqtime_us = None
            return
        seconds = parse_number(args[0])
        if not 100e-6 <= seconds <= 100:
            raise _Refused("acquisition time out of range [100u; 100]")
        self.acqtime_us = round(seconds * 1e6)

    def _cmd_output(self, args: list[str]) -> None:
        self._need_control()
        if args[0] not in ("current", "energy"):
            raise _Refused("output is 'current' or 'energy'")
        self.output = args[0]

    def _cmd_format(self, args: list[str]) -> None:
        self._need_control()
        if args[0] not in ("ascii_dec", "bin_hexa"):
            raise _Refused("format is 'ascii_dec' or 'bin_hexa'")
        self.format = args[0]

    def _cmd_trigsrc(self, args: list[str]) -> None:
        self._need_control()
        if args[0] not in ("sw", "d7"):
            raise _Refused("trigger source is 'sw' or 'd7'")
        self.trigsrc = args[0]

    def _cmd_trigdelay(self, args: list[str]) -> None:
        self._need_control()
        parse_number(args[0])

    def _cmd_eventsrc(self, args: list[str]) -> None:
        self._need_control()
        if args[:2] != ["d7", "fal"] and args[:1] != ["none"]:
            raise _Refused("event source is 'd7 fal' or 'none'")
        self.events = args[0] == "d7"

    def _cmd_pwr(self, args: list[str]) -> bytes | None:
        self._need_control()
        if args[0] == "get":
            return f"{PROMPT}{'off' if self.power == 'off' else 'on'}\r\n".encode()
        if args[0] not in ("auto", "on", "off"):
            raise _Refused("pwr is 'auto', 'on' or 'off'")
        self.power = args[0]
        return None

    def _cmd_pwrend(self, args: list[str]) -> None:
        self._need_control()

    def _cmd_start(self, _: list[str]) -> None:
        self._need_control()
        if self.format == "ascii_dec" and self.freq_hz > ASCII_MAX_HZ and self.acqtime_us is None:
            raise _Refused(f"ascii_dec is limited to {ASCII_MAX_HZ // 1000}k for an unlimited acquisition")
        if self.output == "energy" and self.freq_hz > ASCII_MAX_HZ:
            raise _Refused("energy output is limited to 10k")
        self.acquiring, self.sent, self._level = True, 0, False
        self._armed = self.trigsrc == "d7"
        self._t0_us = float(self.clock.now_us())

    def _cmd_stop(self, _: list[str]) -> bytes:
        return self._end() if self.acquiring else b""

    def _need_control(self) -> None:
        if not self.controlled:
            raise _Refused("host control not taken (htc)")
        if self.acquiring:
            raise _Refused("acquisition in progress")

    def _end(self) -> bytes:
        self.acquiring = False
        return f"{PROMPT}Acquisition completed\r\n".encode()

    # --- stream ----------------------------------------------------------------------

    def collect(self) -> bytes:
        if not self.acquiring:
            return b""
        period = 1e6 / self.freq_hz
        now = self.activity.known_until(self.clock.now_us())
        if self._armed and not self._triggered(now, period):
            return b""
        total = int((now - self._t0_us) // period)
        end = b""
        if self.acqtime_us is not None and total * period >= self.acqtime_us:
            total, end = int(self.acqtime_us // period), self._end()
        due = total - self.sent
        if due <= 0:
            return end
        t0 = self._t0_us + self.sent * period
        samples = self.activity.render(t0, due, period, self.voltage_mv, int(now))
        self.activity.forget_before(t0)
        self.sent += due
        current = samples.current_a * (0.0 if self.power == "off" else 1.0)
        values = current * (self.voltage_mv / 1000) * (period / 1e6) if self.output == "energy" else current
        if self.format == "bin_hexa":
            return encode_bin_hexa(values) + end
        return self._ascii(values, samples.marker, t0, period) + end

    def _triggered(self, now: float, period: float) -> bool:
        """trigsrc d7: has the marker risen since the start? The acquisition then starts there."""
        count = int((now - self._t0_us) // period)
        if count <= 0:
            return False
        high = self.activity.render(self._t0_us, count, period, self.voltage_mv, int(now)).marker
        rises = np.flatnonzero(high & ~np.concatenate(([self._level], high[:-1])))
        self._level = bool(high[-1])
        if not len(rises):
            self._t0_us += count * period
            return False
        self._t0_us += int(rises[0]) * period
        self._armed, self._level = False, False
        return True

    def _ascii(self, values: np.ndarray, high: np.ndarray, t0: float, period: float) -> bytes:
        lines = [format_ascii(v) for v in values.tolist()]
        if self.events:
            falls = np.flatnonzero(~high & np.concatenate(([self._level], high[:-1])))
            for i in reversed(falls.tolist()):  # after the sample that saw the line low
                ms = int((t0 + i * period - self._t0_us) // 1000)
                lines.insert(i + 1, f"TimeStamp: {ms}ms, buff 00%".encode())
        if len(high):
            self._level = bool(high[-1])
        return b"".join(line + b"\r\n" for line in lines)
