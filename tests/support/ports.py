"""A serial port as `serial.tools.list_ports` describes it, for discovery tests without hardware."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FakePort:
    device: str
    vid: int | None
    pid: int | None
    serial_number: str | None = None
    location: str | None = None
    description: str | None = None
