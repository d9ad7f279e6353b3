"""Emulated meters for virtual boards: what `fleet sim --meter ppk2|lpm01a` runs.

Each virtual board gets one meter on its own PTY, fed by the board's engine (its busy
spans through `Activity.attach`, on the board's clock), and registered so `fleet scan`,
`fleet monitor` and `fleet bench` find it and know which board it feeds. The serial is
the kind's prefix and the board uid's last eight hex digits, so labels are stable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fleet.sim.meters.activity import Activity
from fleet.sim.meters.lpm01a_emulator import Lpm01aDevice
from fleet.sim.meters.ppk2_emulator import Ppk2Device
from fleet.sim.meters.pty_meter import PtyMeter
from fleet.meters.registry import RegisteredMeter, register_meter, unregister_meter

_PREFIX = {"ppk2": "PPK", "lpm01a": "LPM"}


@dataclass(slots=True)
class SimMeter:
    kind: str
    serial: str
    board_uid: str
    meter: PtyMeter

    @property
    def port(self) -> str:
        return self.meter.port


class SimMeters:
    """One emulated meter per virtual board; `start`, then `stop`."""

    def __init__(self, kind: str, *, register: bool = True, registry_dir: Path | None = None) -> None:
        if kind not in _PREFIX:
            raise ValueError(f"meter kind {kind!r}: one of {', '.join(_PREFIX)}")
        self.kind = kind
        self.register = register
        self.registry_dir = registry_dir
        self.meters: list[SimMeter] = []

    def start(self, boards) -> list[SimMeter]:  # noqa: ANN001 - fleet.sim.virtual_board.VirtualBoard
        for board in boards:
            engine = board.engine
            activity = Activity(engine.power_model)
            activity.attach(engine)
            serial = f"{_PREFIX[self.kind]}{board.uid[-8:].upper()}"
            if self.kind == "ppk2":
                device = Ppk2Device(activity, engine.clock)
            else:
                device = Lpm01aDevice(activity, engine.clock, serial=serial)
            meter = PtyMeter(device)
            meter.start()
            self.meters.append(SimMeter(self.kind, serial, board.uid, meter))
            if self.register:
                register_meter(RegisteredMeter(kind=self.kind, port=meter.port, serial=serial, board_uid=board.uid,
                                               pid=os.getpid()), self.registry_dir)  # fmt: skip
        return self.meters

    async def stop(self) -> None:
        for sim in self.meters:
            if self.register:
                unregister_meter(sim.serial, self.registry_dir)
            await sim.meter.stop()
        self.meters.clear()
