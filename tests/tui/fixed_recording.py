"""A recording written from fixed events, so a replay of it draws the same screen every time.

Four boards of mixed profiles, ten seconds of results (20/s), power (10/s), link health,
a few device logs, and a canary deploy in which the Pico rolls back on its latency budget.
With `meter=True`, a PPK2 also feeds the Nano: its current trace (2 ms buckets) and each
inference's marker window and energy (19.8 mW x 444 µs = 8.791 µJ).
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

from fleet.deploy.events import DeployEvent
from fleet.profiles import load_profiles
from fleet.telemetry.events import (
    BoardResources,
    DeployNotice,
    EnergyEvent,
    LinkEvent,
    LogEvent,
    PowerEvent,
    ResultEvent,
    SlotView,
    StateEvent,
    TelemetryEvent,
    TraceEvent,
)  # fmt: skip
from fleet.telemetry.recording import RecordingEnd, RecordingHeader

T0 = 1_700_000_000.0
SECONDS = 10
SINE = SlotView(slot=0, state="active", name="sine", version="1.0.0", sha256="6588794b" + "0" * 56)
GESTURE = SlotView(slot=1, state="active", name="gesture", version="1.0.0", sha256="fe1faa9d" + "0" * 56)
# (name, uid, profile, latency µs, idle mW, active mW)
BOARDS = (
    ("esp32s3-a1cf", "00000000000000a1", "esp32s3", 84, 66.0, 165.0),
    ("nano33ble-16e1", "00000000000000b2", "nano33ble", 444, 6.6, 19.8),
    ("pico-6e7a", "00000000000000c3", "pico", 733, 33.0, 82.5),
    ("stm32f746disco-38ba", "00000000000000d4", "stm32f746disco", 114, 150.0, 330.0),
)


def _resources(profile: str) -> BoardResources:
    p = load_profiles()[profile]
    return BoardResources(arena_bytes=p.arena_bytes, slot_bytes=p.slot_bytes, cpu_hz=p.cpu_hz, slots=("active", "empty"))


METER = "meter:ppk2 C3A1F0E2"


def _meter(t0: float, seconds: int) -> list[TelemetryEvent]:
    """The Nano's PPK2: 2 mA idle, 6 mA during each 444 µs inference, one every 50 ms (the
    meter's clock here is the host's less T0)."""
    name, uid, _, latency, idle, active = BOARDS[1]
    idle_ua, active_ua = idle / 3.3 * 1000, active / 3.3 * 1000
    events: list[TelemetryEvent] = []
    ends = [0.1 + step * 0.05 + 0.001 for step in range(seconds * 20)]  # as the results' host times
    for k in range(seconds * 10):
        start = 0.1 + k * 0.1
        highs = []
        for b in range(50):
            lo, hi = start + b * 0.002, start + (b + 1) * 0.002
            busy = any(e - latency / 1e6 < hi and e > lo for e in ends[2 * k : 2 * k + 3])
            highs.append(round(active_ua if busy else idle_ua, 1))
        windows = tuple((round((e - latency / 1e6) * 1e6, 1), round(e * 1e6, 1), round(active * latency / 1000, 3))
                        for e in ends[2 * k : 2 * k + 2])  # fmt: skip
        events.append(TraceEvent(board=name, uid=uid, host_time=t0 + start, device_time_us=round(start * 1e6),
                                 bucket_us=2000.0, min_ua=(round(idle_ua, 1),) * 50, max_ua=tuple(highs),
                                 windows=windows, source=METER))  # fmt: skip
    for step, end in enumerate(ends):
        events.append(EnergyEvent(board=name, uid=uid, host_time=t0 + end, device_time_us=100_000 + step * 50_000,
                                  inference_count=step + 1, energy_uj=round(active * latency / 1000, 3),
                                  duration_us=latency, power_mw=active, method="marker", source=METER))  # fmt: skip
    return events


def _events(meter: bool = False) -> list[TelemetryEvent]:
    events: list[TelemetryEvent] = []
    for i, (name, uid, profile, _, _, _) in enumerate(BOARDS):
        events.append(StateEvent(board=name, uid=uid, host_time=T0 + i * 0.01, state="online", port=f"/dev/pts/{i + 2}",
                                 profile=profile, firmware="fleet-sim 0.1.0", active=SINE,
                                 resources=_resources(profile)))  # fmt: skip
    energy = [0.0] * len(BOARDS)
    for step in range(SECONDS * 20):
        t_us = 100_000 + step * 50_000
        for i, (name, uid, _, latency, idle, active) in enumerate(BOARDS):
            t = T0 + t_us / 1e6 + i * 0.001
            x = 2 * math.pi * (step % 64) / 64
            events.append(ResultEvent(board=name, uid=uid, host_time=t, device_time_us=t_us, latency_us=latency,
                                      inference_count=step + 1, input_id=step, model=SINE.sha256[:8], dtype="int8",
                                      values=(round(math.sin(x), 3),), top_index=0,
                                      score=round(math.sin(x), 3)))  # fmt: skip
            if step % 2 == 0:
                mw = idle + (active - idle) * latency / 50_000
                energy[i] += mw * 0.1 * 1000
                events.append(PowerEvent(board=name, uid=uid, host_time=t, device_time_us=t_us, voltage_mv=3300,
                                         current_ua=round(mw / 3.3 * 1000), energy_uj=round(energy[i]),
                                         power_mw=round(mw, 1)))  # fmt: skip
            if step % 20 == 0:
                events.append(LinkEvent(board=name, uid=uid, host_time=t, frames_in=step * 2, frames_out=step // 10,
                                        clock_rtt_ms=1.2))  # fmt: skip
        if step == 40:
            events.append(LogEvent(board=BOARDS[2][0], uid=BOARDS[2][1], host_time=T0 + 2.1, device_time_us=2_100_000,
                                   level=1, text="stream config: results 50 ms, power 100 ms"))  # fmt: skip
    if meter:
        events += _meter(T0, SECONDS)
    events.sort(key=lambda e: e.host_time)
    return events + _deploy(T0 + SECONDS + 0.5)


def _deploy(t: float) -> list[TelemetryEvent]:
    esp, pico = BOARDS[0], BOARDS[2]
    steps = [
        DeployEvent(event="plan", time=t, boards=[esp[0], pico[0]], strategy="canary", model="gesture",
                    version="1.0.0", total=5552),
        DeployEvent(event="confirmed", time=t + 1, board=esp[0], uid=esp[1], phase="done", model="gesture",
                    version="1.0.0", inferences=3, latency_us=84),
        DeployEvent(event="progress", time=t + 2, board=pico[0], uid=pico[1], phase="uploading", bytes=5552,
                    total=5552),
        DeployEvent(event="rolled_back", time=t + 3, board=pico[0], uid=pico[1], phase="done",
                    reason="health check failed: median latency 0.7 ms exceeds the 0.5 ms budget; "
                    "rolled back to sine 1.0.0"),
        DeployEvent(event="done", time=t + 3.1, summary={"confirmed": 1, "rolled_back": 1}),
    ]  # fmt: skip
    return [DeployNotice(board=e.board or "", uid=e.uid or "", host_time=e.time, event=e) for e in steps]


def write_fixed_recording(path: Path, *, meter: bool = False) -> int:
    """Write the recording; returns its number of events."""
    events = _events(meter)
    lines = [RecordingHeader(started=T0, boards=[]).model_dump_json()]
    lines += [e.model_dump_json() for e in events]
    lines.append(RecordingEnd(events=len(events), stopped=T0 + SECONDS + 5).model_dump_json())
    with gzip.GzipFile(path, "wb", mtime=0) as out:
        out.write(("\n".join(lines) + "\n").encode())
    return len(events)
