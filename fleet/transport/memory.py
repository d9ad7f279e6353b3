"""In-memory transports: two connected ends of a byte pipe inside one event loop.

Fast, deterministic tests run a virtual board on one end and the client on the other;
the behaviour matches a serial port as far as the layers above can tell (ordered bytes,
`PortVanished` when the other end closes).
"""

from __future__ import annotations

import asyncio

from fleet.errors import PortVanished


class MemoryTransport:
    """One end of an in-memory pipe; create pairs with `memory_pipe`."""

    baud: int | None = None  # no line, no line rate

    def __init__(self, name: str) -> None:
        self.name = name
        self._inbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._peer: MemoryTransport | None = None
        self._closed = False

    async def read(self) -> bytes:
        if self._closed:
            raise PortVanished(f"{self.name}: closed")
        first = await self._inbox.get()
        if first is None:
            self._inbox.put_nowait(None)  # later reads see the end too
            raise PortVanished(f"{self.name}: the other end closed")
        parts = [first]
        while not self._inbox.empty():
            nxt = self._inbox.get_nowait()
            if nxt is None:
                self._inbox.put_nowait(None)
                break
            parts.append(nxt)
        return b"".join(parts)

    async def write(self, data: bytes) -> None:
        if self._closed or self._peer is None or self._peer._closed:
            raise PortVanished(f"{self.name}: the other end closed")
        if data:
            self._peer._inbox.put_nowait(bytes(data))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._inbox.put_nowait(None)
        if self._peer is not None:
            self._peer._inbox.put_nowait(None)


def memory_pipe(name: str = "mem") -> tuple[MemoryTransport, MemoryTransport]:
    """Two connected transports: (host end, board end)."""
    host, board = MemoryTransport(f"{name}:host"), MemoryTransport(f"{name}:board")
    host._peer, board._peer = board, host
    return host, board
