"""Connecting to a known board by identity: its last port first, then wherever its uid answers.

USB boards re-enumerate after a reset (ttyACM0 becomes ttyACM1) and virtual boards may come
back on a new PTY, so a board is found by the uid it reports, never trusted by port name.
Boards on in-process memory pipes (the demo's and the tests' virtual boards) are followed
from plug-in to plug-in by `memory_connector`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from fleet.client import BoardClient
from fleet.config import FleetConfig
from fleet.discovery import find_candidates, scan
from fleet.errors import FleetTimeout, PortBusy, PortNotFound, PortVanished, TransportError
from fleet.transport.base import Transport
from fleet.transport.serial import open_transport

Connector = Callable[[], Awaitable[BoardClient]]


async def connect_port(port: str, baud: int, config: FleetConfig, name: str | None = None) -> BoardClient:
    """Open `port` and say HELLO with the timeouts devices.toml sets."""
    transport = await open_transport(port, baud)
    return await BoardClient.connect(
        transport, name=name or port, timeout=config.defaults.request_timeout_s, retries=config.defaults.retries,
        hello_timeout=max(config.defaults.hello_timeout_s, config.defaults.request_timeout_s),
    )  # fmt: skip


async def locate(uid: str | None, config: FleetConfig, name: str | None = None) -> tuple[str, int] | None:
    """(port, baud) where the board with this uid answers now (without a uid: the port
    devices.toml names `name` that answers), if any. Candidates are probed together."""
    for result in await scan(config, find_candidates(config)):
        if result.status == "ok" and (result.uid == uid if uid else result.candidate.name == name):
            return result.candidate.port, result.candidate.baud
    return None


def board_connector(name: str, uid: str | None, port: str, baud: int, config: FleetConfig) -> Connector:
    """A connector that follows the board `uid` from port to port.

    The board's last port is tried first. When it is gone, silent, or answers as another
    board (a re-enumeration gave it to someone else), the board is looked for by uid on
    every candidate at once, not retried on a port it has left. Without a uid (a
    devices.toml board never seen), whatever answers on its port is taken to be it.
    """
    where = {"port": port, "baud": baud}

    async def attempt() -> BoardClient:
        if not where["port"]:
            raise PortNotFound(f"{name}: not seen on any port yet")
        client = await connect_port(where["port"], where["baud"], config, name)
        assert client.info is not None
        if uid and client.info.uid.hex() != uid:
            other = client.info.uid.hex()
            await client.close()
            raise _Moved(f"{name}: {where['port']} now answers as board {other}, not {uid}")
        return client

    async def connect() -> BoardClient:
        try:
            return await attempt()
        except PortBusy:
            raise
        except (TransportError, FleetTimeout) as exc:
            found = await locate(uid, config, name)
            if found is None:
                if isinstance(exc, (PortNotFound, PortVanished)):
                    raise PortNotFound(f"{name}: {where['port'] or 'no port'} is gone and no port answers as "
                                       f"{f'uid {uid}' if uid else name}") from None  # fmt: skip
                raise
            where["port"], where["baud"] = found
            return await attempt()

    return connect


class Plugins(Protocol):
    """Where a board's plug-ins arrive: the host end of each new pipe (`fleet.sim.ports.MemoryPorts`)."""

    connections: asyncio.Queue[Transport]


def memory_connector(ports: Plugins) -> Connector:
    """Connects to the board's next plug-in on its memory pipe, like a host watching USB."""

    async def connect() -> BoardClient:
        transport = await ports.connections.get()
        return await BoardClient.connect(transport, timeout=1.0, retries=2, hello_timeout=1.0)

    return connect


class _Moved(TransportError):
    """The board's last port answers as another board."""
