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

Once measuring, the stream is read in 50 ms batches (`StreamBatches`, as the PPK2's) and
decoded a batch at a time (`AsciiDecoder`: ~10x less CPU than a regex per line, see
docs/power.md); commands go before `start`.
"""

from __future__ import annotations

import asyncio

from fleet.errors import FleetTimeout, ProtocolError
from fleet.meters.batches import StreamBatches
from fleet.meters.chunk import MeterChunk
from fleet.meters.edge_clock import EdgeClock
from fleet.meters.lpm01a_protocol import ASCII_MAX_HZ, FREQUENCIES, PROMPT, AsciiDecoder
from fleet.transport.base import Transport

ACK_TIMEOUT_S = 2.0
LINE_BYTES = 9  # `dddd±ee\r\n`: what a sample costs on the wire


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
        self.decoder: AsciiDecoder | None = None
        self._buf = b""
        self._batches: StreamBatches | None = None

    async def start(self) -> None:
        for command in ("htc", f"volt {self.voltage_mv}m", f"freq {self.freq}", "acqtime inf", "output current",
                        "format ascii_dec", "trigsrc sw", "eventsrc d7 fal", "pwr on", "start"):  # fmt: skip
            await self.command(command)
        self.decoder = AsciiDecoder()
        self._batches = StreamBatches.timed(self.transport, FREQUENCIES[self.freq] * LINE_BYTES)

    async def command(self, command: str) -> list[str]:
        """Send one command (before `start`); its ack's arguments. ProtocolError with the detail on `error`."""
        assert self._batches is None, "commands go before start(): then the stream is read in batches"
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
        """The samples of the next batch of the stream (at least `batches.BATCH_S` of them while it flows)."""
        assert self.decoder is not None and self._batches is not None, "start() first"
        data, arrival = await self._batches.take()
        if self._buf:  # samples that came with start's ack
            data, self._buf = self._buf + data, b""
        values, stamps = self.decoder.feed(data)
        for ms in stamps:
            self.device_clock.add_edge(ms * 1000.0)
        t0 = (self.decoder.samples - len(values)) * self.period_us
        return MeterChunk(t0, self.period_us, values, self.voltage_mv / 1000, None, arrival)

    async def stop(self) -> None:
        if self._batches is not None:
            await self._batches.close()
        await self.transport.write(b"stop\n")
