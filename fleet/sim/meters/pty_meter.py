"""An emulated meter on a pseudo-terminal: the device side of `fleet sim --meter`.

Any device with `receive(bytes) -> bytes` (host commands in, answer out) and
`collect() -> bytes` (the stream due by now) runs here: one task answers the host, one
sends the stream every `stream_interval_s` (a USB meter sends in bursts, too). The host
opens `port` like the meter's `/dev/ttyACM*`.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from fleet.cancel import cancel_and_wait
from fleet.errors import PortVanished
from fleet.sim.pty import PtyTransport

STREAM_INTERVAL_S = 0.02  # 2,000 PPK2 samples a burst: 40 % of the emulator CPU of 5 ms bursts


class MeterDevice(Protocol):
    def receive(self, data: bytes) -> bytes: ...

    def collect(self) -> bytes: ...


class PtyMeter:
    """Runs a meter device on a new PTY until `stop`."""

    def __init__(self, device: MeterDevice, stream_interval_s: float = STREAM_INTERVAL_S) -> None:
        self.device = device
        self.stream_interval_s = stream_interval_s
        self.transport = PtyTransport()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def port(self) -> str:
        return self.transport.name

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._answer(), name=f"meter {self.port} rx"),
                       loop.create_task(self._stream(), name=f"meter {self.port} tx")]  # fmt: skip

    async def stop(self) -> None:
        try:
            await cancel_and_wait(*self._tasks, expected=(PortVanished,))
        finally:
            await self.transport.close()

    async def _answer(self) -> None:
        while True:
            answer = self.device.receive(await self.transport.read())
            if answer:
                await self.transport.write(answer)

    async def _stream(self) -> None:
        while True:
            await asyncio.sleep(self.stream_interval_s)
            data = self.device.collect()
            if data:
                await self.transport.write(data)
