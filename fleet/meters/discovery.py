"""Which meters fleet can read, and which board each feeds.

Meters come from devices.toml (`[[meters]]`: by port or USB match), from USB (a PPK2, by
its own VID/PID, even unconfigured: then it feeds no board until devices.toml says which),
and from `fleet sim --meter` (emulated, each in one virtual board's supply). A meter port
is never probed as a board (fleet.discovery skips these ports).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from serial.tools import list_ports

from fleet.config import FleetConfig, Meter
from fleet.meters.identity import is_ppk2
from fleet.printable import printable

if TYPE_CHECKING:
    from fleet.discovery import UsbIdentity

MeterSource = Literal["config", "usb", "virtual"]
_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class MeterCandidate:
    """A meter found, with its settings and the board it feeds (a name or a uid; None: unassigned)."""

    kind: str
    port: str
    serial: str
    board: str | None
    source: MeterSource
    settings: Meter | None  # devices.toml's entry; None: the kind's defaults

    @property
    def label(self) -> str:
        """The power source label of its figures, `meter:<kind> <serial>`: its identity in every
        event. A USB serial is the device's own text, so it is made one printable word
        (control characters escaped, whitespace as `_`)."""
        return f"meter:{self.kind} {_WHITESPACE.sub('_', printable(self.serial)) or '_'}"

    @property
    def uses_marker(self) -> bool:
        return self.settings.uses_marker if self.settings else self.kind == "ppk2"


def _registered() -> list[MeterCandidate]:
    from fleet.meters.registry import registered_meters

    return [MeterCandidate(m.kind, m.port, m.serial, m.board_uid, "virtual", None) for m in registered_meters()]


def find_meters(
    config: FleetConfig,
    *,
    ports: Callable[[], Iterable[object]] = list_ports.comports,
    virtual: Callable[[], list[MeterCandidate]] = _registered,
) -> list[MeterCandidate]:
    """Every meter found, without opening any port."""
    from fleet.discovery import usb_matches, usb_ports  # fleet.discovery imports this module's sibling

    found: dict[str, MeterCandidate] = {}

    def add(candidate: MeterCandidate) -> None:
        found.setdefault(os.path.realpath(candidate.port), candidate)

    usb = usb_ports(ports())
    for meter in config.meters:
        if meter.port:
            add(MeterCandidate(meter.kind, meter.port, meter.serial or os.path.basename(meter.port), meter.board,
                               "config", meter))  # fmt: skip
        elif meter.match is not None:
            for device, identity in usb:
                if usb_matches(meter.match, identity):
                    serial = meter.serial or identity.serial or os.path.basename(device)
                    add(MeterCandidate(meter.kind, device, serial, meter.board, "usb", meter))
    for device, identity in usb:
        if is_ppk2(identity.vid, identity.pid):
            add(MeterCandidate("ppk2", device, identity.serial or os.path.basename(device), None, "usb", None))
    for candidate in virtual():
        add(candidate)
    return list(found.values())


def is_meter_port(config: FleetConfig, device: str, usb: UsbIdentity) -> bool:
    """A PPK2, or a port devices.toml gives to a meter (by path or USB match): never probe it as a board."""
    from fleet.discovery import usb_matches

    if is_ppk2(usb.vid, usb.pid):
        return True
    real = os.path.realpath(device)
    return any((m.port and os.path.realpath(m.port) == real) or (m.match is not None and usb_matches(m.match, usb))
               for m in config.meters)  # fmt: skip
