"""Reading a PPK2 (or the emulator) from the host: the ppk2-api client's sequence, async.

The commands and the sample conversion follow `ppk2-api` 0.9.2 exactly (metadata,
source or ampere mode, regulator voltage, DUT power, AVERAGE_START); fleet decodes the
stream with numpy (`SampleDecoder`: 100,000 samples/s per meter would cost a core in
ppk2-api's per-sample Python) and leaves out its spike filter, which smooths the three
samples after a range switch on real hardware. Lost samples are counted from the 6-bit
sample counter, which also proves where each sample begins (`SampleDecoder`): bytes that
are no samples (stale bytes a closed port kept, a byte dropped) are skipped, never decoded.
"""

from __future__ import annotations

import asyncio

from fleet.errors import FleetTimeout, ProtocolError
from fleet.meters.batches import StreamBatches
from fleet.meters.chunk import MeterChunk
from fleet.meters.ppk2_protocol import (
    SAMPLE_BYTES, SAMPLE_RATE_HZ, Calibration, Command, SampleDecoder, regulator_bytes,
)  # fmt: skip
from fleet.transport.base import Transport

PERIOD_US = 1e6 / SAMPLE_RATE_HZ
METADATA_TIMEOUT_S = 2.0
NO_SAMPLES_BYTES = SAMPLE_RATE_HZ * SAMPLE_BYTES  # a second of stream without one proven sample: not samples


class Ppk2Driver:
    """One PPK2 on an open transport; see the module doc."""

    kind = "ppk2"

    def __init__(self, transport: Transport, serial: str, *, voltage_mv: int = 3300, mode: str = "source",
                 marker_channel: int | None = 0) -> None:  # fmt: skip
        if mode not in ("source", "ampere"):
            raise ValueError(f"PPK2 mode {mode!r}: 'source' or 'ampere'")
        self.transport = transport
        self.serial = serial
        self.voltage_mv = voltage_mv
        self.mode = mode
        self.marker_bit = None if marker_channel is None else 1 << marker_channel
        self.device_clock = None  # the marker is sampled with the current: windows need no clock mapping
        self.has_marker = marker_channel is not None
        self.decoder: SampleDecoder | None = None
        self._batches: StreamBatches | None = None

    @property
    def lost(self) -> int:
        return self.decoder.lost if self.decoder else 0

    async def start(self) -> None:
        await self.transport.write(bytes([Command.AVERAGE_STOP]))  # a meter left measuring: quiet it first
        calibration = await self._metadata()
        b1, b2 = regulator_bytes(self.voltage_mv)
        power_mode = 2 if self.mode == "source" else 1
        await self.transport.write(bytes([Command.SET_POWER_MODE, power_mode, Command.REGULATOR_SET, b1, b2]))
        await self.transport.write(bytes([Command.DEVICE_RUNNING_SET, 1, Command.AVERAGE_START]))
        self.decoder = SampleDecoder(calibration, self.voltage_mv)
        # 50 ms batches (20 kB; the tty hands over at most 4 KiB a read).
        self._batches = StreamBatches.timed(self.transport, SAMPLE_RATE_HZ * SAMPLE_BYTES)

    async def _metadata(self) -> Calibration:
        await self.transport.write(bytes([Command.GET_META_DATA]))
        text = b""
        try:
            async with asyncio.timeout(METADATA_TIMEOUT_S):
                while b"END" not in text:
                    text += await self.transport.read()
        except TimeoutError:
            raise FleetTimeout(f"PPK2 {self.serial}: no metadata within {METADATA_TIMEOUT_S:g} s") from None
        start = text.rfind(b"Calibrated")  # samples still in flight from an earlier run come first
        if start < 0:
            raise ProtocolError(f"PPK2 {self.serial}: metadata without calibration: {text[-80:]!r}")
        return Calibration.parse(text[start:].decode("ascii", "replace"))

    async def read(self) -> MeterChunk:
        """The samples of the next batch of the stream (at least `batches.BATCH_S` of them while it flows)."""
        assert self.decoder is not None and self._batches is not None, "start() first"
        data, arrival = await self._batches.take()
        lost, damaged = self.decoder.lost, self.decoder.damaged
        current, logic = self.decoder.feed(data)
        if not self.decoder.samples and self.decoder.skipped > NO_SAMPLES_BYTES:
            raise ProtocolError(f"PPK2 {self.serial}: {self.decoder.skipped} bytes and no samples in them "
                                f"(no run of sample counters counting up)")  # fmt: skip
        # Lost samples (counter gaps) still took time: the next chunk starts after them.
        t0 = (self.decoder.samples + self.decoder.lost - len(current)) * PERIOD_US
        marker = (logic & self.marker_bit) != 0 if self.marker_bit is not None else None
        return MeterChunk(t0, PERIOD_US, current, self.voltage_mv / 1000, marker, arrival,
                          self.decoder.lost - lost, self.decoder.damaged - damaged)  # fmt: skip

    async def stop(self) -> None:
        if self._batches is not None:
            await self._batches.close()
        await self.transport.write(bytes([Command.AVERAGE_STOP]))
