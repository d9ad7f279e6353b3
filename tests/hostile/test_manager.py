"""The fleet manager over a board that lies in its events: the link ends with the board
named and its lie as the reason, and the board is not hammered with reconnects; and over
a board that lies about who it is (another board's uid): a conflict, not that board."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

import pytest

from tests.hostile.farm import hostile_farm  # first: skips the module without the simulator extra

from fleet.config import FleetConfig  # noqa: E402
from fleet.connect import connect_port, memory_connector  # noqa: E402
from fleet.errors import BoardRefused, UidConflict  # noqa: E402
from fleet.manager import FleetManager  # noqa: E402
from fleet.models.bundled import bundled_model  # noqa: E402
from fleet.sim.farm import FarmConfig, SimFarm  # noqa: E402
from fleet.sim.virtual_board import LinkConfig  # noqa: E402
from fleet.telemetry.events import StateEvent  # noqa: E402
from tests.support.events import collect  # noqa: E402
from tests.support.wait import until  # noqa: E402


async def test_a_board_lying_at_hello_is_not_added(tmp_path):
    async with hostile_farm("slot-state", tmp_path=tmp_path) as farm:
        async with FleetManager(discover=False) as manager:
            with pytest.raises(BoardRefused, match="refused: Info: slot 0 state is 9"):
                await manager.add_board(memory_connector(farm.memory_ports[0]))
            assert not manager.boards


async def test_a_board_lying_in_events_waits_a_rescan_interval_between_tries(tmp_path):
    async with hostile_farm("malformed", tmp_path=tmp_path, pty=True) as farm:
        async with FleetManager(discover=False, rescan_interval_s=1.0) as manager:
            port = farm.boards[0].port
            loop = asyncio.get_running_loop()
            started = loop.time()
            state = await manager.add_board(lambda: connect_port(port, 921_600, manager.config, "evil"), name="evil")
            lie = "refused: Power: payload is 20 bytes, expected 22"
            await until(lambda: lie in (state.reason or ""), "the lie named as the reason")
            await asyncio.sleep(2.5)  # a window for the pace to show in
            # Each connection lives until the first POWER (10 ms); without a pause it would reconnect
            # ~100 times a second. Paced, there is one connection per interval at most, however
            # slowly this loop turns (a loaded machine only makes for fewer).
            assert state.reconnects <= (loop.time() - started) / 1.0 + 1


async def test_a_board_claiming_a_managed_boards_uid_makes_both_a_conflict(tmp_path, monkeypatch):
    """An honest board is online; a clone of its uid appears on another port. The manager
    drops the board to `conflict` naming both ports and refuses to deploy to or wait for it;
    once the clone is gone the board is managed again, on its own port. Before, the clone was
    ignored while the board was connected, and adopted in its place (`rehome`) when not."""
    monkeypatch.setenv("FLEET_SIM_REGISTRY", str(tmp_path / "registry"))
    monkeypatch.setenv("FLEET_LOCK_DIR", str(tmp_path / "locks"))
    link = LinkConfig(baud=921_600, turnaround_us=500)
    honest = FarmConfig(boards=1, seed=5, state_dir=tmp_path / "honest", link=link, register=True)
    async with SimFarm(honest) as real:
        uid, port = real.boards[0].uid, real.boards[0].port
        async with FleetManager(FleetConfig(), rescan_interval_s=0.2) as manager:
            await manager.wait_online(uid, 30)
            consumer = manager.subscribe()
            clone = dataclasses.replace(honest, seed=6, state_dir=tmp_path / "clone", clone_uid=bytes.fromhex(uid))
            async with SimFarm(clone) as fake:
                events = await collect(consumer, lambda seen: any(_state(e) == "conflict" for e in seen), 60)
                conflict = next(e for e in events if _state(e) == "conflict")
                assert conflict.uid == uid and port in conflict.reason and fake.boards[0].port in conflict.reason
                assert manager.boards[uid].state == "conflict" and manager.client(uid) is None
                with pytest.raises(UidConflict, match=f"uid {uid} answers on 2 ports at once"):
                    await manager.wait_online(uid, 1)
                with pytest.raises(UidConflict):
                    await manager.deploy(bundled_model("sine"), uid)
                consumer.take(1 << 16)
                await manager.scan_once()  # hears both ports again: nothing new to say
                assert not [e for e in consumer.take(1 << 16) if _state(e) == "conflict"]
                assert manager.boards[uid].state == "conflict"
            await collect(consumer, lambda seen: bool(seen) and _state(seen[-1]) == "online", 60)
            assert manager.boards[uid].state == "online" and manager.boards[uid].port == port
            await manager.wait_online(uid, 1)
            assert list(manager.boards) == [uid]


def _state(event: object) -> str | None:
    return event.state if isinstance(event, StateEvent) else None


async def test_a_conflict_outside_the_target_is_not_the_managers_business(tmp_path, monkeypatch):
    monkeypatch.setenv("FLEET_SIM_REGISTRY", str(tmp_path / "registry"))
    monkeypatch.setenv("FLEET_LOCK_DIR", str(tmp_path / "locks"))
    honest = FarmConfig(boards=1, seed=5, state_dir=tmp_path / "honest", link=LinkConfig(baud=921_600), register=True)
    async with SimFarm(honest) as real:
        uid = real.boards[0].uid
        clone = dataclasses.replace(honest, seed=6, state_dir=tmp_path / "clone", clone_uid=bytes.fromhex(uid))
        async with SimFarm(clone), FleetManager(FleetConfig(), target="ffff0000") as manager:
            assert sorted(r.status for r in manager.last_scan) == ["conflict", "conflict"]
            assert not manager.boards  # `--to ffff0000` names neither board


async def test_add_board_of_a_uid_connected_elsewhere_is_a_conflict(tmp_path):
    """Before: the second board's connector silently replaced the first's."""
    honest = FarmConfig(boards=1, seed=5, state_dir=tmp_path / "honest", transport="memory",
                        link=LinkConfig(baud=None, turnaround_us=0))  # fmt: skip
    async with SimFarm(honest) as real, FleetManager(discover=False) as manager:
        uid = real.boards[0].uid
        await manager.add_board(memory_connector(real.memory_ports[0]))
        await manager.wait_online(uid, 30)
        clone = dataclasses.replace(honest, seed=6, state_dir=tmp_path / "clone", clone_uid=bytes.fromhex(uid))
        async with SimFarm(clone) as fake:
            with pytest.raises(UidConflict, match=f"uid {uid} answers on 2 ports at once"):
                await manager.add_board(memory_connector(fake.memory_ports[0]))
            assert manager.boards[uid].state == "conflict" and manager.client(uid) is None
            with pytest.raises(UidConflict):
                await manager.wait_online(uid, 1)


def _pty_connector(manager: FleetManager, port: str, name: str):  # noqa: ANN202 - a Connector
    return lambda: connect_port(port, 921_600, manager.config, name)


@contextlib.asynccontextmanager
async def _cloned_without_discovery(tmp_path):  # noqa: ANN202 - yields (manager, uid, port, consumer, clone)
    """A board online in a manager without discovery, then `add_board` of its clone (a
    --clone-uid board on another PTY, its farm yielded): UidConflict."""
    honest = FarmConfig(boards=1, seed=5, state_dir=tmp_path / "honest", link=LinkConfig(baud=921_600))
    async with SimFarm(honest) as real, FleetManager(discover=False, rescan_interval_s=0.2) as manager:
        uid, port = real.boards[0].uid, real.boards[0].port
        await manager.add_board(_pty_connector(manager, port, "real"))
        await manager.wait_online(uid, 30)
        consumer = manager.subscribe()
        clone = dataclasses.replace(honest, seed=6, state_dir=tmp_path / "clone", clone_uid=bytes.fromhex(uid))
        async with SimFarm(clone) as fake:
            with pytest.raises(UidConflict, match=f"uid {uid} answers on 2 ports at once"):
                await manager.add_board(_pty_connector(manager, fake.boards[0].port, "fake"))
            assert manager.boards[uid].state == "conflict" and manager.client(uid) is None
            yield manager, uid, port, consumer, fake


async def test_without_discovery_a_conflict_ends_when_the_clone_goes(tmp_path, monkeypatch):
    """`add_board` of a clone puts the board in `conflict`; once the clone's port goes, the
    board left is managed again, on its own port. Before, a manager without discovery kept
    the conflict until restarted: nothing looked again."""
    monkeypatch.setenv("FLEET_LOCK_DIR", str(tmp_path / "locks"))
    async with _cloned_without_discovery(tmp_path) as (manager, uid, port, consumer, fake):
        with pytest.raises(UidConflict):
            await manager.wait_online(uid, 1)
        consumer.take(1 << 16)
        await fake.stop()  # the clone goes
        await collect(consumer, lambda seen: bool(seen) and _state(seen[-1]) == "online", 60)
        assert manager.boards[uid].state == "online" and manager.boards[uid].port == port
        client = await manager.wait_online(uid, 1)
        assert client.transport.name == port and list(manager.boards) == [uid]


async def test_without_discovery_a_conflict_stays_while_both_boards_answer(tmp_path, monkeypatch):
    """Neither board going, the conflict holds across the watch's rounds (each round hears
    both again: the board that the conflict disconnected answers again)."""
    monkeypatch.setenv("FLEET_LOCK_DIR", str(tmp_path / "locks"))
    async with _cloned_without_discovery(tmp_path) as (manager, uid, *_):
        claims = manager._claims[uid]
        while not all(c.client is not None for c in claims.claimants):  # both held: both answer
            await asyncio.sleep(0.05)
        assert manager.boards[uid].state == "conflict" and uid in manager._claim_tasks
