"""In-process ports for virtual boards: each plug-in makes a new memory pipe.

`MemoryPorts` is a port factory for `VirtualBoard` (as `PtyTransport` is for real PTYs).
The host ends of the pipes it makes are handed out through `connections`, in order, so
a test that unplugs and replugs a board picks up the new connection like a host that
sees a port re-enumerate.
"""

from __future__ import annotations

import asyncio

from fleet.transport.memory import MemoryTransport, memory_pipe


class MemoryPorts:
    """Port factory: a fresh in-memory pipe per call; the host end goes to `connections`."""

    def __init__(self, name: str = "mem") -> None:
        self.name = name
        self.connections: asyncio.Queue[MemoryTransport] = asyncio.Queue()
        self.host: MemoryTransport | None = None
        self._count = 0

    def __call__(self) -> MemoryTransport:
        self._count += 1
        host, board = memory_pipe(f"{self.name}#{self._count}")
        self.host = host
        self.connections.put_nowait(host)
        return board
