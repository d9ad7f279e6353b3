"""Reading an X-NUCLEO-LPM01A (or the emulator) from the host, as EnergyRunner sets it up.

`htc`, then `volt`, `freq`, `acqtime inf`, `output current`, `format ascii_dec`, `trigsrc
sw`, `eventsrc d7 fal`, `pwr on`, `start`; each command waits for its `ack` (an `error` is
a ProtocolError naming the command and the meter's detail). Samples arrive as `dddd±ee`
lines at `freq` (at most 10 kHz in ascii). The LPM01A samples no marker line, so its
energy windows are the results' own (`timestamp` method); but with the board's marker on
D7 it reports each falling edge (the end of an inference) as a `TimeStamp: <ms>ms` line,
and `device_clock` (`fleet.meters.edge_clock`) pairs those with the results to map the
board's clock onto the meter's, as EnergyRunner uses them. Without the wire no lines come,
and windows are placed through the host's clock mapping.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np

from fleet.errors import FleetTimeout, ProtocolError
from fleet.meters.chunk import MeterChunk
from fleet.meters.edge_clock import EdgeClock
from fleet.meters.lpm01a_protocol import ASCII_MAX_HZ, FREQUENCIES, PROMPT, TIMESTAMP, parse_ascii
from fleet.transport.base import Transport

ACK_TIMEOUT_S = 2.0


class Lpm01aDriver:
    """One LPM01A on an open transport; see the module doc."""

    kind = "lpm01a"
    has_marker = False
    lost = 0  # the ascii stream has no counter: losses cannot be seen

    def __init__(self, transport: Transport, serial: str, *, voltage_mv: int = 3300, freq: str = "10k") -> None:
        if freq not in FREQUENCIES or FREQUENCIES[freq] > ASCII_MAX_HZ:
            raise ValueError(f"LPM01A freq {freq!r}: one of {', '.join(k for k, v in FREQUENCIES.items() if v <= ASCII_MAX_HZ)}")
        if not 1800 <= voltage_mv <= 3300:
            raise ValueError(f"LPM01A supply {voltage_mv} mV: 1800..3300")
        self.transport = transport
        self.serial = serial
        self.voltage_mv = voltage_mv
        self.freq = freq
        self.period_us = 1e6 / FREQUENCIES[freq]
        self.device_clock = EdgeClock(sample_us=self.period_us)
        self._buf = b""
        self._samples = 0

    async def start(self) -> None:
        for command in ("htc", f"volt {self.voltage_mv}m", f"freq {self.freq}", "acqtime inf", "output current",
                        "format ascii_dec", "trigsrc sw", "eventsrc d7 fal", "pwr on", "start"):  # fmt: skip
            await self.command(command)

    async def command(self, command: str) -> list[str]:
        """Send one command; its ack's arguments. ProtocolError with the detail on `error`."""
        await self.transport.write(command.encode() + b"\n")
        name = command.split()[0]
        try:
            async with asyncio.timeout(ACK_TIMEOUT_S):
                while True:
                    line = (await self._line()).replace(PROMPT, "").strip()
                    if line.startswith(f"ack {name}"):
                        return line.split()[1:]
                    if line.startswith(f"error {name}"):
                        detail = (await self._line()).replace(PROMPT, "").replace("Error detail:", "").strip()
                        raise ProtocolError(f"LPM01A {self.serial} refused {command!r}: {detail}")
        except TimeoutError:
            raise FleetTimeout(f"LPM01A {self.serial}: no answer to {command!r} within {ACK_TIMEOUT_S:g} s") from None

    async def _line(self) -> str:
        while b"\n" not in self._buf:
            self._buf += await self.transport.read()
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode("ascii", "replace")

    async def read(self) -> MeterChunk:
        self._buf += await self.transport.read()
        whole = self._buf.rfind(b"\n") + 1
        lines, self._buf = self._buf[:whole].split(b"\n"), self._buf[whole:]
        values = []
        for line in lines:
            value = parse_ascii(line)
            if value is not None:
                values.append(value)
            elif (stamp := TIMESTAMP.match(line.strip())) is not None:
                self.device_clock.add_edge(int(stamp.group(1)) * 1000.0)
        t0 = self._samples * self.period_us
        self._samples += len(values)
        return MeterChunk(t0, self.period_us, np.asarray(values, dtype=np.float64), self.voltage_mv / 1000, None,
                          time.time())  # fmt: skip

    async def stop(self) -> None:
        await self.transport.write(b"stop\n")
