"""The transport interface: an async, ordered, unreliable byte pipe.

Everything above (client, virtual boards) speaks through this and never sees pyserial,
file descriptors or sockets. Bytes may be lost or corrupted on the way (that is what
framing and CRC are for); a pipe that ends raises `PortVanished`.

A transport may also offer `feed_to(receiver)` (the serial one does): received bytes are
then handed to `receiver` as they arrive, in the reader callback (for local ports: in a pass
of the loop's port poller, `fleet.transport.poller`), and
`read()` only raises (why the pipe ended, or what `receiver` raised). The client uses it
when it is there: no queue and no task wake-up per chunk (docs/telemetry.md, "The hot path").
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Transport(Protocol):
    """An open byte pipe. `name` is what a user would recognise: a port path or URL;
    `baud` the line rate where there is one (None for pipes with no line)."""

    name: str
    baud: int | None

    async def read(self) -> bytes:
        """Wait for at least one byte and return everything available.

        Raises PortVanished when the other end is gone (closed, unplugged, killed), and
        PortBusy when the other end turned out to serve another client (ser2net's refusal).
        """
        ...

    async def write(self, data: bytes) -> None:
        """Send bytes; returns once they are handed to the OS (or the peer).

        Raises PortVanished when the other end is gone.
        """
        ...

    async def close(self) -> None:
        """Release the pipe. Idempotent; pending reads raise PortVanished."""
        ...
