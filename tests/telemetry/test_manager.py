"""FleetManager over in-process virtual boards: values, resets, reconnects, fan-out, recording, deploy."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from tests.support.sim import require_sim

require_sim()  # runs virtual boards

from fleet.config import FleetConfig, Rollout  # noqa: E402
from fleet.deploy.model_file import load_model_file  # noqa: E402
from fleet.models.arena import measure_arena  # noqa: E402
from fleet.models.bundled import bundled_model, find_bundled_manifest  # noqa: E402
from fleet.models.inputs import input_stream  # noqa: E402
from fleet.models.inspect import inspect_model  # noqa: E402
from fleet.models.tflm_runner import TflmRunner  # noqa: E402
from fleet.profiles import get_profile  # noqa: E402
from fleet.protocol import LogLevel, Stream, StreamConfig  # noqa: E402
from fleet.telemetry.events import BootEvent, DeployNotice, PowerEvent, ResultEvent, StateEvent  # noqa: E402
from fleet.telemetry.recording import RecordingWriter, open_recording  # noqa: E402
from fleet.telemetry.replay import ReplaySource  # noqa: E402
from tests.support.clock import FakeTimer  # noqa: E402
from tests.support.events import collect, result  # noqa: E402
from tests.support.farm import managed_farm  # noqa: E402

SEED = 11


def _results(events, uid=None):
    return [e for e in events if isinstance(e, ResultEvent) and (uid is None or e.uid == uid)]


def _expected_outputs(model: bytes, seed: int, count: int) -> list[tuple[float, ...]]:
    """What TFLM computes for the board's first `count` inputs, dequantized like the manager does."""
    info = inspect_model(model)
    runner = TflmRunner(model, measure_arena(model))
    spec = info.outputs[0]
    out = []
    for _, (input_id, value) in zip(range(count), input_stream(info, seed)):
        q = runner.run(value).reshape(-1)
        out.append(tuple(float((int(v) - spec.zero_point) * spec.scale) for v in q))
    return out


async def test_results_are_the_tflm_outputs_for_their_input_with_labels(gesture):
    async with managed_farm(gesture.data, boards=2) as (farm, manager):
        consumer = manager.subscribe(maxsize=100_000)
        events = await collect(consumer, lambda ev: all(len(_results(ev, b.uid)) >= 30 for b in farm.boards))
    labels = find_bundled_manifest(inspect_model(gesture.data).sha256).labels
    for index, board in enumerate(farm.boards):
        results = _results(events, board.uid)
        expected = _expected_outputs(gesture.data, SEED + index, max(r.input_id for r in results) + 1)
        for r in results:
            assert r.values == expected[r.input_id], f"input {r.input_id}"
            top = max(range(len(r.values)), key=r.values.__getitem__)
            assert (r.top_index, r.score, r.label) == (top, r.values[top], labels[top])
            assert r.model == inspect_model(gesture.data).sha256[:8]
        assert {r.label for r in results} == set(labels)  # the generator cycles through every class
        state = manager.boards[board.uid]
        assert state.state == "online" and state.active is not None and state.active.name == "gesture"
        assert sum(state.stats.class_counts.values()) >= 30
        # Resolved once, where the results were ingested, for views (the TUI's charts) to read.
        assert state.model_labels == {inspect_model(gesture.data).sha256[:8]: tuple(labels)}


async def test_board_state_carries_info_resources_and_preflight_reads_the_latest_info(gesture):
    async with managed_farm(gesture.data, boards=1) as (farm, manager):
        uid = farm.boards[0].uid
        await manager.wait_online(uid, 10.0)
        state = manager.boards[uid]
        profile = get_profile("nano33ble")
        assert state.resources is not None
        assert (state.resources.arena_bytes, state.resources.cpu_hz) == (profile.arena_bytes, profile.cpu_hz)
        assert state.resources.slot_bytes == profile.slot_bytes
        assert state.resources.slots[state.active.slot] == "active"
        runs = manager.preflight(gesture, uid)
        other = manager.preflight(load_model_file(bundled_model("sine")), uid)
        assert runs is not None and runs.same_model  # the INFO it read names gesture as running
        assert other is not None and other.ok and not other.same_model
        assert manager.preflight(gesture, "not-a-board") is None


async def test_host_time_is_device_time_on_the_host_clock(gesture):
    async with managed_farm(gesture.data, boards=2) as (farm, manager):
        consumer = manager.subscribe(maxsize=100_000)
        events = await collect(consumer, lambda ev: len(_results(ev)) >= 40)
        received = time.time()
    for board in farm.boards:
        results = _results(events, board.uid)
        # Device intervals carry over exactly; the absolute time is within a few ms of the wall clock.
        for a, b in itertools.pairwise(results):
            assert b.host_time - a.host_time == pytest.approx((b.device_time_us - a.device_time_us) / 1e6, abs=1e-6)
        assert 0 <= received - results[-1].host_time < 1.0


async def test_power_and_energy_per_inference_follow_the_power_model(gesture):
    streams = StreamConfig(Stream.RESULTS | Stream.POWER, LogLevel.INFO, result_interval_ms=4, power_interval_ms=100)
    async with managed_farm(gesture.data, boards=1, streams=streams) as (farm, manager):
        consumer = manager.subscribe(maxsize=100_000)
        events = await collect(consumer, lambda ev: sum(isinstance(e, PowerEvent) for e in ev) >= 15)
        stats = manager.boards[farm.boards[0].uid].stats
        energy_per_inference = stats.energy_per_inference_uj
    profile = get_profile("nano33ble")
    results = _results(events)
    latency = results[-1].latency_us
    finished = [r.device_time_us for r in results]
    samples = [e for e in events if isinstance(e, PowerEvent)][2:]  # past the first, partial intervals
    # Each interval's power follows the time the board was busy in it: the inferences that
    # finished in it, give or take the one running across each edge. Counted from the
    # board's own results, not from the nominal 4 ms schedule, which a loaded host may skip.
    for before, sample in itertools.pairwise(samples):
        dt_us = sample.device_time_us - before.device_time_us
        n = sum(before.device_time_us < t <= sample.device_time_us for t in finished)
        assert sample.voltage_mv == profile.voltage_mv
        busy = [max(0, k) * latency / dt_us for k in (n - 1, n + 1)]
        low, high = (profile.idle_mw + (profile.active_mw - profile.idle_mw) * min(1.0, b) for b in busy)
        assert low * 0.99 <= sample.power_mw <= high * 1.01, (n, dt_us, sample.power_mw)
    # The whole board's energy per inference: average power over an inference's period.
    mean_mw = sum(e.power_mw for e in samples) / len(samples)
    assert energy_per_inference == pytest.approx(mean_mw / stats.inference_rate * 1000, rel=0.05)
    assert stats.latency_p50_us == stats.latency_p99_us == latency


async def test_a_board_reset_is_survived(gesture):
    async with managed_farm(gesture.data, boards=2) as (farm, manager):
        consumer = manager.subscribe(maxsize=100_000)
        board = farm.boards[0]
        await collect(consumer, lambda ev: len(_results(ev, board.uid)) >= 5)
        board.reset()
        events = await collect(
            consumer, lambda ev: any(isinstance(e, BootEvent) for e in ev) and len(_results(ev, board.uid)) >= 10
        )
        state = manager.boards[board.uid]
        boot_at = next(i for i, e in enumerate(events) if isinstance(e, BootEvent))
        after = _results(events[boot_at:], board.uid)
        assert after[0].inference_count <= 2  # counting from the reset: streams were turned on again
        assert any(isinstance(e, StateEvent) and e.uid == board.uid and e.resets == 1 for e in events[boot_at:])
        assert state.state == "online" and state.resets == 1 and state.reconnects == 0
        assert abs(time.time() - after[-1].host_time) < 1.0  # the clock was estimated again
        assert len(_results(events[boot_at:], farm.boards[1].uid)) > 0  # the other board never stopped


async def test_unplug_then_replug_reconnects_the_same_entry(gesture):
    async with managed_farm(gesture.data, boards=2) as (farm, manager):
        consumer = manager.subscribe(maxsize=100_000)
        board = farm.boards[1]
        await collect(consumer, lambda ev: len(_results(ev, board.uid)) >= 3)
        await board.unplug()
        events = await collect(consumer, lambda ev: any(
            isinstance(e, StateEvent) and e.uid == board.uid and e.state == "reconnecting" for e in ev))
        assert manager.boards[board.uid].state == "reconnecting"
        await board.plug()
        events = await collect(consumer, lambda ev: len(_results(ev, board.uid)) >= 3)
        state = manager.boards[board.uid]
        assert state.state == "online" and state.reconnects == 1
        assert state.port.startswith("sim1#2")  # the new port
        assert len(manager.boards) == 2
        assert _results(events, board.uid)[0].inference_count <= 2


async def test_a_board_that_stays_away_goes_offline(gesture):
    async with managed_farm(gesture.data, boards=1, offline_after_s=0.5, rescan_interval_s=0.2) as (farm, manager):
        consumer = manager.subscribe(maxsize=100_000)
        await farm.boards[0].unplug()
        await collect(consumer, lambda ev: any(isinstance(e, StateEvent) and e.state == "offline" for e in ev))
        assert manager.boards[farm.boards[0].uid].state == "offline"
        await farm.boards[0].plug()
        await collect(consumer, lambda ev: any(isinstance(e, StateEvent) and e.state == "online" for e in ev))


async def test_a_slow_consumer_does_not_stall_the_others(gesture):
    streams = StreamConfig(Stream.RESULTS | Stream.POWER, LogLevel.INFO, result_interval_ms=10, power_interval_ms=50)
    async with managed_farm(gesture.data, boards=2, streams=streams) as (farm, manager):
        stuck = manager.subscribe(maxsize=8, name="stuck")  # never read
        fast = manager.subscribe(maxsize=100_000, name="fast")
        # 2 boards x 100 results/s: 200 results within collect's deadline, whatever `stuck` does.
        events = await collect(fast, lambda ev: len(_results(ev)) >= 200)
        assert stuck.pending == 8
        assert stuck.dropped >= len(events) - 8
        assert set(stuck.dropped_by_board) == {b.name for b in manager.boards.values()}
        assert fast.dropped == 0
        assert all(b.stats.results > 50 for b in manager.boards.values())


async def test_record_then_replay_reproduces_the_event_sequence(gesture, tmp_path):
    path = tmp_path / "session.fleetrec"
    async with managed_farm(gesture.data, boards=2) as (farm, manager):
        await manager.start_recording(path)
        seen = manager.subscribe(maxsize=100_000)  # no await in between: both see the same events
        farm.boards[0].reset()  # a reset in the middle, to record boot and state events too
        start = time.monotonic()
        live = await collect(seen, lambda ev: len(_results(ev)) >= 60 and time.monotonic() - start > 1.5)
        live += [e for e in iter(seen.get_nowait, None)]
        seen.close()
        writer = await manager.stop_recording()
        assert writer is not None and writer.events == len(live) and writer.dropped == 0
        live_rows = {uid: (b.stats.results, b.resets) for uid, b in manager.boards.items()}
    assert {e.kind for e in live} >= {"result", "power", "boot", "state", "link"}

    source = ReplaySource(open_recording(path), speed=None)
    replayed_consumer = source.subscribe(maxsize=16)  # smaller than the recording: a replay waits, never drops
    task = asyncio.create_task(source.run())
    replayed = [e async for e in replayed_consumer]
    assert await task == len(live)
    assert replayed == live
    assert replayed_consumer.dropped == 0
    for uid, board in source.boards.items():
        assert board.resets == live_rows[uid][1]
        assert 0 < board.stats.results <= live_rows[uid][0]


async def test_replay_paces_by_host_time_and_squeezes_long_gaps(tmp_path):
    path = tmp_path / "session.fleetrec"
    writer = await RecordingWriter.create(path)
    times_us = [10_000_000, 10_500_000, 11_000_000, 20_000_000, 20_250_000]  # a 9 s pause after 11 s
    for count, t_us in enumerate(times_us, 1):
        writer.write(result(t_us, count))
    await writer.close()
    timer = FakeTimer()
    source = ReplaySource(open_recording(path), speed=2.0, max_gap_s=5.0, clock=timer)
    consumer = source.subscribe(maxsize=100)
    start = timer.time()
    assert await source.run() == len(times_us)
    # Half speed of host time; the 9 s pause plays as the 5 s limit: (1.0 + 5.0 + 0.25) / 2.
    assert timer.time() - start == pytest.approx(3.125, abs=1e-9)
    assert timer.sleeps == pytest.approx([0.25, 0.25, 2.5, 0.125], abs=1e-9)
    assert [e.inference_count async for e in consumer] == [1, 2, 3, 4, 5]


async def test_deploy_through_the_manager_keeps_streams_and_publishes_steps(gesture):
    sine = bundled_model("sine")
    new_sha = inspect_model(sine.read_bytes()).sha256
    async with managed_farm(gesture.data, boards=2) as (farm, manager):
        consumer = manager.subscribe(maxsize=100_000)
        results = await manager.deploy(sine, "all", "all")
        assert [r.outcome for r in results] == ["confirmed", "confirmed"]
        events = await collect(consumer, lambda ev: all(
            any(r.model == new_sha[:8] for r in _results(ev, b.uid)) for b in farm.boards)
            and any(isinstance(e, DeployNotice) and e.event.event == "done" for e in ev))
        await collect(consumer, lambda ev: all(
            b.active is not None and b.active.sha256 == new_sha for b in manager.boards.values()), timeout=5)
        notices = [e.event for e in events if isinstance(e, DeployNotice)]
        assert notices[0].event == "plan" and notices[-1].event == "done"
        assert {n.board for n in notices if n.event == "confirmed"} == {b.name for b in manager.boards.values()}
        for board in manager.boards.values():
            assert (board.active.name, board.active.version) == ("sine", "1.0.0")  # from sine.json
            assert board.previous is not None and board.previous.name == "gesture"
            assert board.deploy is not None and board.deploy.event == "confirmed"
            assert board.state == "online"


async def test_deploy_through_the_manager_applies_the_latency_budget_of_devices_toml(gesture):
    # The manager's default options once left `[rollout] max_latency_ms` out: no budget was checked.
    config = FleetConfig(rollout=Rollout(max_latency_ms=0.001))  # no board is that fast
    async with managed_farm(gesture.data, boards=1, config=config) as (_farm, manager):
        results = await manager.deploy(bundled_model("sine"), "all", "all")
    assert [r.outcome for r in results] == ["rolled_back"]
    assert "exceeds the 0.0 ms budget" in results[0].reason
