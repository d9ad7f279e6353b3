"""Where a power figure comes from: every power reading fleet shows carries one of these.

- `modelled`: the board computes it from a model (idle/active power, time busy), as every
  virtual board and fleet firmware without a current sensor does. POWER from a board is
  `modelled` unless its INFO declares the `POWER_SENSOR` capability, or devices.toml
  declares it measured (`power = "sensor"`, for firmware that measures without saying so).
- `sensor`: measured by the board itself (an INA219/INA226 shunt monitor on its supply,
  firmware/drivers/fw_ina2xx.c).
- `meter:<kind> <serial>`: an external instrument in the board's supply, e.g.
  `meter:ppk2 C3A1F0E2`. Only this kind measures everything the board draws.

Figures from different kinds are not comparable: a model is as good as its calibration,
a board's sensor sees only the rail it sits on. `fleet bench --compare` says so.
"""

from __future__ import annotations

import re
from typing import Literal

from fleet.errors import ConfigError

SourceKind = Literal["modelled", "sensor", "meter"]
MODELLED = "modelled"
SENSOR = "sensor"
_METER = re.compile(r"^meter:([a-z0-9][a-z0-9_-]*) (\S+)$")


def meter_source(kind: str, serial: str) -> str:
    """The source label of an external meter: `meter:<kind> <serial>`."""
    source = f"meter:{kind} {serial}"
    if not _METER.match(source):
        raise ConfigError(f"meter {kind!r} serial {serial!r}: a kind of lowercase letters/digits and a serial "
                          "without spaces are expected")  # fmt: skip
    return source


def source_kind(source: str) -> SourceKind:
    """`modelled`, `sensor` or `meter` for a source label; ValueError for anything else."""
    if source in (MODELLED, SENSOR):
        return source  # type: ignore[return-value]
    if _METER.match(source):
        return "meter"
    raise ValueError(f"power source {source!r}: expected 'modelled', 'sensor' or 'meter:<kind> <serial>'")
