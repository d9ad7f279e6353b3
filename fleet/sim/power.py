"""The power model: a board draws `idle_mw` when idle and `active_mw` while it infers.

Time is in microseconds and power in milliwatts, so energy comes out in nanojoules
(mW x µs = nJ). Energy depends only on two integers, the time since boot and the busy
(inferring) time within it, which makes every reported figure exactly derivable:

    energy_uj  = floor((idle_mw * (t - busy) + active_mw * busy) / 1000)
    current_ua = round(avg_mw / voltage_mv * 1e6)   (avg_mw over the sample interval)
    energy per inference = active_mw * latency_us / 1000 µJ
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fleet.profiles import Profile


@dataclass(frozen=True, slots=True)
class PowerModel:
    """Idle/active power at a supply voltage (from a board profile)."""

    idle_mw: float
    active_mw: float
    voltage_mv: int

    @classmethod
    def from_profile(cls, profile: Profile) -> PowerModel:
        return cls(profile.idle_mw, profile.active_mw, profile.voltage_mv)

    def energy_nj(self, elapsed_us: int, busy_us: int) -> float:
        """Energy used over `elapsed_us`, of which `busy_us` were spent inferring."""
        return self.idle_mw * (elapsed_us - busy_us) + self.active_mw * busy_us

    def energy_uj(self, elapsed_us: int, busy_us: int) -> int:
        return math.floor(self.energy_nj(elapsed_us, busy_us) / 1000)

    def current_ua(self, power_mw: float) -> int:
        """Supply current drawing `power_mw` at the board voltage (mW / mV = A)."""
        return round(power_mw / self.voltage_mv * 1e6)

    def inference_energy_uj(self, latency_us: int) -> float:
        return self.active_mw * latency_us / 1000


@dataclass(slots=True)
class PowerSample:
    """One POWER event's figures."""

    voltage_mv: int
    current_ua: int
    energy_uj: int


class PowerMeter:
    """Turns (time since boot, busy time) readings into POWER samples.

    The current is the average over the interval since the previous sample (what a shunt
    meter integrating between readings shows); the first interval starts at boot.
    """

    def __init__(self, model: PowerModel) -> None:
        self.model = model
        self._last_t = 0
        self._last_busy = 0

    def restart(self, elapsed_us: int, busy_us: int) -> None:
        """Begin a new averaging interval (when the POWER stream is switched on)."""
        self._last_t, self._last_busy = elapsed_us, busy_us

    def sample(self, elapsed_us: int, busy_us: int) -> PowerSample:
        dt = elapsed_us - self._last_t
        dbusy = busy_us - self._last_busy
        avg_mw = self.model.energy_nj(dt, dbusy) / dt if dt > 0 else self.model.idle_mw
        self._last_t, self._last_busy = elapsed_us, busy_us
        return PowerSample(
            self.model.voltage_mv, self.model.current_ua(avg_mw), self.model.energy_uj(elapsed_us, busy_us)
        )


class PowerStream:
    """The POWER stream's schedule: a sample every interval, from a `PowerMeter`."""

    def __init__(self, model: PowerModel, now_us: int) -> None:
        self.meter = PowerMeter(model)
        self.next_us = now_us  # clock time the next sample is due (while the stream is on)

    def restart(self, now_us: int, interval_ms: int, elapsed_us: int, busy_us: int) -> None:
        """The stream was switched on, or its interval changed: the first sample is one interval away."""
        self.next_us = now_us + interval_ms * 1000
        self.meter.restart(elapsed_us, busy_us)

    def sample(self, at_us: int, interval_ms: int, elapsed_us: int, busy_us: int) -> PowerSample:
        """The sample due at clock time `at_us`; the next is due one interval later."""
        self.next_us = at_us + interval_ms * 1000
        return self.meter.sample(elapsed_us, busy_us)
