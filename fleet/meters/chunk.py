"""What every meter driver yields: a run of consecutive samples on the meter's clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from fleet.meters.edge_clock import EdgeClock


@dataclass(frozen=True, slots=True)
class MeterChunk:
    """Consecutive samples: the first starts at t0_us (meter clock, 0 = measuring started)."""

    t0_us: float
    period_us: float
    current_a: np.ndarray
    volts: float  # the supply voltage the energy is computed at
    marker: np.ndarray | None  # the marker line per sample, when the meter samples one
    arrival: float  # host time.time() when the last sample arrived
    lost_samples: int = 0  # samples the meter lost just before these (t0_us is after them)
    damaged_bytes: int = 0  # bytes of the stream before these samples that were no samples (not decoded)

    @property
    def end_us(self) -> float:
        return self.t0_us + self.period_us * len(self.current_a)


class MeterDriver(Protocol):
    """A meter the host reads: `start` measuring, `read` until `stop`."""

    kind: str
    serial: str
    has_marker: bool
    lost: int  # samples the host knows it did not get
    device_clock: EdgeClock | None  # the board's clock on the meter's, from edge timestamps (LPM01A D7)

    async def start(self) -> None: ...

    async def read(self) -> MeterChunk: ...

    async def stop(self) -> None: ...
