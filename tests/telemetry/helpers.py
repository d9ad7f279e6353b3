"""Helpers: events built by hand, and a manager over an in-process farm of virtual boards."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from fleet.connect import memory_connector
from fleet.manager import FleetManager
from fleet.protocol import StreamConfig
from fleet.sim.farm import FarmConfig, SimFarm
from fleet.sim.virtual_board import LinkConfig
from fleet.telemetry.events import PowerEvent, ResultEvent, TelemetryEvent
from fleet.telemetry.fanout import Consumer


def result(t_us: int, count: int, *, latency: int = 1000, values=(0.1, 0.9), label: str | None = None,
           board: str = "b", uid: str = "01") -> ResultEvent:  # fmt: skip
    top = max(range(len(values)), key=values.__getitem__)
    return ResultEvent(board=board, uid=uid, host_time=t_us / 1e6, device_time_us=t_us, latency_us=latency,
                       inference_count=count, input_id=count, model="00000000", dtype="int8", values=values,
                       top_index=top, score=values[top], label=label)  # fmt: skip


def power(t_us: int, energy_uj: int, *, mw: float = 10.0, board: str = "b", uid: str = "01") -> PowerEvent:
    return PowerEvent(board=board, uid=uid, host_time=t_us / 1e6, device_time_us=t_us, voltage_mv=3300,
                      current_ua=round(mw / 3300 * 1e6), energy_uj=energy_uj, power_mw=mw)  # fmt: skip


@contextlib.asynccontextmanager
async def managed_farm(
    model: bytes | None, *, boards: int = 2, streams: StreamConfig | None = None, seed: int = 11,
    profiles: tuple[str, ...] = ("nano33ble",), **manager_kw,
) -> AsyncIterator[tuple[SimFarm, FleetManager]]:  # fmt: skip
    """A farm on memory pipes (no pacing) and a started manager that owns its boards."""
    config = FarmConfig(boards=boards, profiles=profiles, transport="memory", model=model, model_name="gesture",
                        seed=seed, link=LinkConfig(baud=None))  # fmt: skip
    kw = {"offline_after_s": 3.0, "rescan_interval_s": 0.5, **manager_kw}
    if streams is not None:
        kw["streams"] = streams
    async with SimFarm(config) as farm:
        manager = FleetManager(discover=False, **kw)
        try:
            await manager.start()
            for ports in farm.memory_ports:
                await manager.add_board(memory_connector(ports))
            yield farm, manager
        finally:
            await manager.stop()


async def collect(consumer: Consumer, until: Callable[[list[TelemetryEvent]], bool], timeout: float = 20.0,
                  ) -> list[TelemetryEvent]:  # fmt: skip
    """Events from `consumer` until `until(events)` holds; fails after `timeout` seconds."""
    events: list[TelemetryEvent] = []
    async with asyncio.timeout(timeout):
        while not until(events):
            events.append(await consumer.get())
    return events
