"""Telemetry events built by hand, for tests of what consumes them (no board needed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

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


async def collect(consumer: Consumer, until: Callable[[list[TelemetryEvent]], bool], timeout: float = 20.0,
                  ) -> list[TelemetryEvent]:  # fmt: skip
    """Events from `consumer` until `until(events)` holds; fails after `timeout` seconds."""
    events: list[TelemetryEvent] = []
    async with asyncio.timeout(timeout):
        while not until(events):
            events.append(await consumer.get())
    return events
