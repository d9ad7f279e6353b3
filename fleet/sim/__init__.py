"""Virtual boards: the device side of protocol v1 in Python, on real PTYs or in-process pipes.

- `BoardEngine` (engine.py): sans-I/O protocol logic, clocked by a `Clock`; its parts are
  request dispatch (dispatch.py), slots (slots.py), the inference schedule (scheduling.py),
  the POWER stream (power.py) and the applied stream settings (streams.py).
- `make_engine`, `program_model` (factory.py): a board's identity, flash and factory model.
- `VirtualBoard` (virtual_board.py): an engine on a transport, with the wire model and faults.
- `SimFarm` (farm.py): many boards at once, optionally registered for discovery.
- `registered_boards()` (registry.py): the boards `fleet sim` processes are running now.

Names are imported on first use, so discovery can read the registry without loading
numpy and the TFLM runtime that the engine needs. See docs/virtual-boards.md.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BoardConfig": "engine", "BoardEngine": "engine", "Clock": "clock", "FakeClock": "clock",
    "FarmConfig": "farm", "FaultSpec": "faults", "LinkConfig": "virtual_board", "MemoryPorts": "ports",
    "MonotonicClock": "clock", "PtyTransport": "pty", "RegisteredBoard": "registry", "SimFarm": "farm",
    "VirtualBoard": "virtual_board", "derive_uid": "factory", "make_engine": "factory", "program_model": "factory",
    "registered_boards": "registry",
}  # fmt: skip
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fleet.sim' has no attribute {name!r}")
    return getattr(importlib.import_module(f"fleet.sim.{module}"), name)
