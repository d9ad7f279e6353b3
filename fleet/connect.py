"""Connecting to a known board by identity: its last port first, then wherever its uid answers.

USB boards re-enumerate after a reset (ttyACM0 becomes ttyACM1) and virtual boards may come
back on a new PTY, so a board is found by the uid it reports, never trusted by port name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fleet.client import BoardClient
from fleet.config import FleetConfig
from fleet.discovery import find_candidates, probe
from fleet.errors import PortNotFound, PortVanished, TransportError
from fleet.transport.serial import open_transport

Connector = Callable[[], Awaitable[BoardClient]]


async def connect_port(port: str, baud: int, config: FleetConfig, name: str | None = None) -> BoardClient:
    """Open `port` and say HELLO with the timeouts devices.toml sets."""
    transport = await open_transport(port, baud)
    return await BoardClient.connect(
        transport, name=name or port, timeout=config.defaults.request_timeout_s, retries=config.defaults.retries,
        hello_timeout=max(config.defaults.hello_timeout_s, config.defaults.request_timeout_s),
    )  # fmt: skip


async def locate(uid: str, config: FleetConfig) -> tuple[str, int] | None:
    """(port, baud) where a board with this uid answers now, if any."""
    for candidate in find_candidates(config):
        result = await probe(candidate, config)
        if result.uid == uid:
            return candidate.port, candidate.baud
    return None


def board_connector(name: str, uid: str, port: str, baud: int, config: FleetConfig) -> Connector:
    """A connector that follows the board `uid` from port to port."""
    where = {"port": port, "baud": baud}

    async def connect() -> BoardClient:
        try:
            client = await connect_port(where["port"], where["baud"], config, name)
        except (PortNotFound, PortVanished):
            found = await locate(uid, config)
            if found is None:
                raise PortNotFound(f"{name}: {where['port']} is gone and no port answers with uid {uid}") from None
            where["port"], where["baud"] = found
            client = await connect_port(where["port"], where["baud"], config, name)
        assert client.info is not None
        if client.info.uid.hex() != uid:
            other = client.info.uid.hex()
            await client.close()
            raise TransportError(f"{name}: {where['port']} now answers as board {other}, not {uid}")
        return client

    return connect
