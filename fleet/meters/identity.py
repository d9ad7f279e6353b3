"""How meters are recognised on USB, without importing anything heavy (discovery uses it).

A PPK2 has its own USB identity; the LPM01A enumerates as ST's generic virtual COM port,
which many ST boards share, so it is a meter only where devices.toml says so.
"""

from __future__ import annotations

MeterKind = str  # "ppk2" | "lpm01a"
METER_KINDS = ("ppk2", "lpm01a")
PPK2_USB = (0x1915, 0xC00A)
LPM01A_USB = (0x0483, 0x5740)


def is_ppk2(vid: int | None, pid: int | None) -> bool:
    return (vid, pid) == PPK2_USB
