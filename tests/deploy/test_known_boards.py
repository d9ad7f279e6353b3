"""`--to all` is every board fleet knows, and a board is followed by uid: `fleet deploy` in
its own process against virtual boards of this process, unplugged and replugged at will."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys

import pytest

from fleet.config import FleetConfig
from fleet.connect import board_connector
from fleet.sim.farm import FarmConfig, SimFarm

from .conftest import farm_config



@pytest.fixture
def env(tmp_path, monkeypatch):
    """This test's registry, locks and cache, for this process and the `fleet` it starts."""
    values = {"FLEET_SIM_REGISTRY": str(tmp_path / "registry"), "FLEET_LOCK_DIR": str(tmp_path / "locks"),
              "FLEET_CACHE_DIR": str(tmp_path / "cache")}  # boards seen by other tests' scans are not ours
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("FLEET_CONFIG", raising=False)
    return os.environ.copy()


def registered(tmp_path, sine, boards: int) -> FarmConfig:
    base = farm_config(tmp_path, boards=boards, profiles=("esp32s3",), model=sine.data)
    return dataclasses.replace(base, register=True, registry_dir=tmp_path / "registry")


async def deploy(env, cwd, *args: str, on_event=None) -> tuple[int, list[dict]]:
    """`fleet deploy ARGS --json`: its exit code and events; `on_event(event)` is awaited for
    each event as it comes."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "fleet", "deploy", *args, "--json", env=env,
                                                cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)  # fmt: skip
    events: list[dict] = []

    async def read_events() -> None:
        async for line in proc.stdout:
            events.append(json.loads(line))
            if on_event is not None:
                await on_event(events[-1])

    async with asyncio.timeout(120):
        _, err = await asyncio.gather(read_events(), proc.stderr.read())
        await proc.wait()
    assert events or not err, err.decode()
    return proc.returncode, events


def outcomes(events: list[dict]) -> dict[str, str]:
    return {e["uid"]: e["event"] for e in events if e.get("uid") and e["event"] not in ("progress", "preflight")}


async def test_an_unplugged_board_is_waited_for_not_left_out(env, tmp_path, sine, gesture):
    async with SimFarm(registered(tmp_path, sine, 2)) as farm:
        away = farm.boards[1]
        await away.unplug()

        async def replug_once_it_is_being_connected_to(event: dict) -> None:
            # Plugged back only once the rollout, planned without it answering, goes for it
            # (not after a guessed time, which a slow start of fleet deploy could outlast).
            if event.get("uid") == away.uid and event.get("phase") == "connecting" and away.port is None:
                await away.plug()

        code, events = await deploy(env, tmp_path, str(gesture.path), "--to", "all", "--strategy", "all",
                                    on_event=replug_once_it_is_being_connected_to)  # fmt: skip
        assert away.port is not None, "the rollout never went for the unplugged board"
        assert len(events[0]["boards"]) == 2, events[0]
        assert outcomes(events) == {b.uid: "confirmed" for b in farm.boards}, [e.get("reason") for e in events]
        assert code == 0
        assert all(b.engine.store.slots[b.engine.store.active].sha256 == gesture.sha256 for b in farm.boards)


async def test_a_board_that_stays_away_is_reported_unreachable(env, tmp_path, sine, gesture):
    async with SimFarm(registered(tmp_path, sine, 2)) as farm:
        await farm.boards[1].unplug()
        code, events = await deploy(env, tmp_path, str(gesture.path), "--to", "all", "--reconnect-window", "2")
        assert outcomes(events) == {farm.boards[0].uid: "confirmed", farm.boards[1].uid: "unreachable"}
        assert code == 4, "a target left without the model: the rollout is incomplete"
        assert events[-1]["summary"] == {"confirmed": 1, "unreachable": 1}
        store = farm.boards[1].engine.store
        assert store.slots[store.active].sha256 == sine.sha256


async def test_a_port_that_answers_as_another_board_sends_us_looking_by_uid_at_once(env, tmp_path, sine):
    async with SimFarm(registered(tmp_path, sine, 2)) as farm:
        a, b = farm.boards
        # What re-enumeration does: a's last known port now belongs to b.
        connect = board_connector("a", a.uid, b.port, 115200, FleetConfig())
        client = await asyncio.wait_for(connect(), 10)
        try:
            assert client.info.uid.hex() == a.uid
            assert client.transport.name == a.port
        finally:
            await client.close()
