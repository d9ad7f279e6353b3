"""Where `fleet sim --meter` announces its emulated meters, beside its virtual boards.

One JSON file per meter, `<serial>.meter`, in the virtual-board registry directory
(`fleet.virtual_ports.registry_dir`; the board entries are `*.json`, so neither reader
sees the other's files). Written atomically; an entry whose process is gone is stale and
deleted by the reader.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from fleet.virtual_ports import live_entries, registry_dir, write_entry


class RegisteredMeter(BaseModel):
    """An emulated meter and the virtual board whose supply it is in."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: str
    port: str
    serial: str
    board_uid: str  # hex
    pid: int


def register_meter(meter: RegisteredMeter, directory: Path | None = None) -> Path:
    return write_entry(meter, f"{meter.serial}.meter", directory)


def unregister_meter(serial: str, directory: Path | None = None) -> None:
    ((directory or registry_dir()) / f"{serial}.meter").unlink(missing_ok=True)


def registered_meters(directory: Path | None = None) -> list[RegisteredMeter]:
    """Live emulated meters whose port exists, sorted by port; stale entries are deleted."""
    meters = [m for m in live_entries("*.meter", RegisteredMeter, directory) if os.path.exists(m.port)]
    return sorted(meters, key=lambda m: m.port)
