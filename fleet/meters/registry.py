"""Where `fleet sim --meter` announces its emulated meters, beside its virtual boards.

One JSON file per meter, `<serial>.meter`, in the virtual-board registry directory
(`fleet.sim.registry.registry_dir`; the board entries are `*.json`, so neither reader
sees the other's files). Written atomically; an entry whose process is gone is stale and
deleted by the reader.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from fleet.sim.registry import process_alive, registry_dir


class RegisteredMeter(BaseModel):
    """An emulated meter and the virtual board whose supply it is in."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: str
    port: str
    serial: str
    board_uid: str  # hex
    pid: int


def register_meter(meter: RegisteredMeter, directory: Path | None = None) -> Path:
    directory = directory or registry_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{meter.serial}.meter"
    tmp = directory / f".{meter.serial}.{os.getpid()}.mtmp"
    tmp.write_text(meter.model_dump_json(), encoding="utf-8")
    os.replace(tmp, path)
    return path


def unregister_meter(serial: str, directory: Path | None = None) -> None:
    ((directory or registry_dir()) / f"{serial}.meter").unlink(missing_ok=True)


def registered_meters(directory: Path | None = None) -> list[RegisteredMeter]:
    """Live emulated meters whose port exists, sorted by port; stale entries are deleted."""
    directory = directory or registry_dir()
    if not directory.is_dir():
        return []
    meters = []
    for path in sorted(directory.glob("*.meter")):
        try:
            meter = RegisteredMeter.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            continue
        except (ValueError, ValidationError):
            path.unlink(missing_ok=True)
            continue
        if not process_alive(meter.pid):
            path.unlink(missing_ok=True)
            continue
        if os.path.exists(meter.port):
            meters.append(meter)
    return sorted(meters, key=lambda m: m.port)

