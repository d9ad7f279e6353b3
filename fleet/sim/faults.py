"""Fault injection settings and their `--faults` text form.

    ber=1e-5,drop=1e-4,disconnect_every=30,reconnect_after=2,reboot_every=60

- `ber`: probability that each bit on the line is flipped (both directions).
- `drop`: probability that each byte is lost (both directions).
- `disconnect_every`: mean seconds between unplugs (exponentially distributed, seeded):
  the port vanishes, the board loses power.
- `reconnect_after`: seconds until an unplugged board comes back on a new port with the
  same uid and a POWER_ON boot (default 2; `never` to stay away).
- `reboot_every`: mean seconds between unrequested resets (WATCHDOG boots).

Empty text means no faults.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from fleet.errors import ConfigError

DEFAULT_RECONNECT_S = 2.0


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """Which faults a virtual board injects; all off by default."""

    ber: float = 0.0
    drop: float = 0.0
    disconnect_every: float | None = None
    reconnect_after: float | None = DEFAULT_RECONNECT_S
    reboot_every: float | None = None

    def __post_init__(self) -> None:
        for name in ("ber", "drop"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"fault {name}={value}: a probability in [0, 1) is expected")
        for name in ("disconnect_every", "reconnect_after", "reboot_every"):
            value = getattr(self, name)
            if value is not None and not (value >= 0 and math.isfinite(value)):
                raise ConfigError(f"fault {name}={value}: seconds >= 0 are expected")

    @property
    def noisy(self) -> bool:
        return self.ber > 0 or self.drop > 0

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """Parse `key=value,...` (see the module doc); ConfigError naming the bad part otherwise."""
        known = {f.name for f in fields(cls)}
        values: dict[str, float | None] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, raw = part.partition("=")
            key = key.strip()
            if not sep or key not in known:
                raise ConfigError(
                    f"--faults: {part!r} is not one of {', '.join(sorted(known))} as key=value",
                    hint="example: --faults ber=1e-5,drop=1e-4,disconnect_every=30,reboot_every=60",
                )
            raw = raw.strip()
            if key == "reconnect_after" and raw == "never":
                values[key] = None
                continue
            try:
                values[key] = float(raw)
            except ValueError:
                raise ConfigError(f"--faults: {key}={raw!r} is not a number") from None
        return cls(**values)  # type: ignore[arg-type]
