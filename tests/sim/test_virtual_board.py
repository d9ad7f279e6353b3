"""VirtualBoard on in-memory pipes: line pacing, turnaround, live streams, faults, unplug/replug."""

from __future__ import annotations

import asyncio
import hashlib
import time

import pytest

from fleet.errors import PortVanished
from fleet.protocol import (
    Boot, BootReason, CommitAck, Hello, InferResult, ModelActivate, ModelBegin, ModelChunk, ModelCommit, Ping, Pong,
    Power, Stream, StreamConfig,
)  # fmt: skip
from fleet.sim.factory import make_engine, program_model
from fleet.sim.clock import MonotonicClock
from fleet.sim.faults import FaultSpec
from fleet.sim.ports import MemoryPorts
from fleet.sim.virtual_board import LinkConfig, VirtualBoard
from tests.support.hosts import AsyncHost
from tests.support.wait import DEADLINE_S


async def started(tmp_path, link: LinkConfig, *, model: bytes | None = None, seed=1, profile="nano33ble", clock=None):
    ports = MemoryPorts()
    engine = make_engine(profile, tmp_path / f"flash{seed}", name=f"run{seed}", seed=seed, max_lag_us=200_000,
                         clock=clock)  # fmt: skip
    if model is not None:
        program_model(engine, model)
    board = VirtualBoard(engine, ports, link, seed=seed)
    await board.start()
    return board, ports, AsyncHost(await ports.connections.get())


async def test_bytes_cross_the_line_at_baud(tmp_path):
    board, _, host = await started(tmp_path, LinkConfig(baud=96_000, turnaround_us=0))
    await host.event(Boot)
    t0 = time.monotonic()
    pong = await host.request(Ping(bytes(900)))
    elapsed = time.monotonic() - t0
    # ~914 bytes each way at 9600 B/s: at least 0.19 s, however fast the host wrote them
    # (a loaded machine only adds to it).
    assert isinstance(pong, Pong) and elapsed >= 0.18
    await host.close()
    await board.stop()


async def test_turnaround_delays_responses(tmp_path):
    board, _, host = await started(tmp_path, LinkConfig(baud=None, turnaround_us=60_000))
    t0 = time.monotonic()
    await host.request(Hello())
    assert time.monotonic() - t0 >= 0.06
    await host.close()
    await board.stop()


async def test_live_streams_on_the_real_clock(tmp_path, sine):
    # The real clock, paused while the loop runs the board late: the same timeline on any machine.
    clock = MonotonicClock(pause_when_late=True)
    board, _, host = await started(tmp_path, LinkConfig(baud=921_600), model=sine.data, clock=clock)
    await host.request(StreamConfig(int(Stream.RESULTS | Stream.POWER), 1, 10, 50, 0))
    results = [await host.event(InferResult) for _ in range(20)]
    assert [r.inference_count for r in results] == list(range(1, 21))
    assert {b.device_time_us - a.device_time_us for a, b in zip(results, results[1:])} == {10_000}  # one per 10 ms
    power = await host.event(Power)
    assert power.energy_uj > 0
    await host.close()
    await board.stop()


async def test_slow_line_holds_back_the_results_stream(tmp_path, sine):
    """Back-to-back inference on a 9600-baud line: results come at line rate, not at 13 kHz."""
    board, _, host = await started(tmp_path, LinkConfig(baud=9600), model=sine.data)
    t0 = time.monotonic()
    await host.request(StreamConfig(int(Stream.RESULTS), 1, 0, 100, 0))
    frame = 12 + 35 + 2  # header + CRC, INFER_RESULT with 1 byte of output, COBS overhead and delimiter
    for _ in range(12):  # ~0.6 s of line
        await host.event(InferResult)
        # Never more than the line carried so far plus the UART buffer (a loaded machine only
        # makes the time longer, so the bound looser; an unpaced board would be far beyond it).
        line = (time.monotonic() - t0) * 9600 / 10 + board.link.tx_buffer
        assert board.engine.inference_count <= line / frame + 2
    await host.close()
    await board.stop()


async def test_unplug_and_replug_same_uid(tmp_path, sine):
    board, ports, host = await started(tmp_path, LinkConfig(baud=None), model=sine.data)
    uid = (await host.request(Hello())).uid
    await board.unplug()
    assert board.port is None
    with pytest.raises(PortVanished):
        await host.transport.read()
    await host.close()
    await board.plug()
    host = AsyncHost(await ports.connections.get())
    assert await host.event(Boot) == Boot(int(BootReason.POWER_ON), 2)
    info = await host.request(Hello())
    assert info.uid == uid and info.active_slot == 0  # flash kept: the model runs again
    await host.close()
    await board.stop()


async def test_injected_disconnects_come_back(tmp_path):
    link = LinkConfig(baud=None, faults=FaultSpec(disconnect_every=0.05, reconnect_after=0.05))
    board, ports, host = await started(tmp_path, link)
    seen = []
    board.add_port_listener(lambda b: seen.append(b.port))
    second = await asyncio.wait_for(ports.connections.get(), 5)
    assert second is not host.transport
    assert None in seen and board.stats.unplugs >= 1
    await host.close()
    await board.stop()


async def test_injected_resets_send_watchdog_boots(tmp_path):
    board, _, host = await started(tmp_path, LinkConfig(baud=None, faults=FaultSpec(reboot_every=0.02)))
    assert (await host.event(Boot)).reason == BootReason.POWER_ON
    boot = await host.event(Boot)
    assert boot.reason == BootReason.WATCHDOG and boot.boot_count >= 2
    await host.close()
    await board.stop()


async def test_a_fault_in_the_main_loop_resets_the_board_instead_of_silencing_it(tmp_path, sine, monkeypatch, caplog):
    # A real board's watchdog resets it when its loop faults; a virtual one whose stream
    # tick raised used to stop streaming for good while answering requests as if healthy.
    board, _, host = await started(tmp_path, LinkConfig(baud=921_600), model=sine.data)
    await host.event(Boot)
    await host.request(StreamConfig(int(Stream.RESULTS), 1, 10, 0, 0))
    await host.event(InferResult)
    tick = board.engine.tick
    faults = iter([True])

    def faulty_tick(tx_room=None):
        if next(faults, False):
            raise RuntimeError("simulated firmware fault")
        return tick(tx_room)

    monkeypatch.setattr(board.engine, "tick", faulty_tick)
    boot = await host.event(Boot)
    assert boot.reason == BootReason.FAULT and boot.boot_count == 2
    assert "simulated firmware fault" in caplog.text
    await host.request(StreamConfig(int(Stream.RESULTS), 1, 10, 0, 0))  # a reset turns streams off
    assert (await host.event(InferResult)).inference_count >= 1  # alive again
    await host.close()
    await board.stop()


async def ping_outcomes(tmp_path, seed: int) -> list[bool]:
    """Which of 40 pings were answered on a noisy line. No timeout tells a loss (a loaded
    machine's stall would be taken for one): the pings go out at once, then markers, and the
    board answers in the order it received, so once a marker is answered every answer that
    will ever come has come. Noise falls on byte positions, and the bytes each way are the
    same in every run, so a seed loses the same pings however the run is timed."""
    link = LinkConfig(baud=None, turnaround_us=0, faults=FaultSpec(ber=5e-4))
    board, _, host = await started(tmp_path, link, seed=seed)
    pings = [await host.send(Ping(n.to_bytes(4, "little") * 4)) for n in range(40)]
    markers = {await host.send(Ping(b"marker")) for _ in range(8)}
    answers: dict[int, object] = {}
    while not markers & answers.keys():
        seq, answer = await host.response(timeout=DEADLINE_S)  # only bounds a failure
        answers[seq] = answer
    await host.close()
    await board.stop()
    return [isinstance(answers.get(seq), Pong) for seq in pings]


async def test_line_noise_is_reproducible_with_a_seed(tmp_path):
    first = await ping_outcomes(tmp_path / "a", seed=5)
    again = await ping_outcomes(tmp_path / "b", seed=5)
    assert first == again
    assert 0 < first.count(False) < 40


async def test_upload_with_pipelined_chunks_and_commit_off_the_loop(tmp_path, sine):
    """Chunks pipelined up to the window, then COMMIT (test-load in a worker thread) with a PING
    queued behind it: answers come back in request order."""
    board, _, host = await started(tmp_path, LinkConfig(baud=921_600))
    begin = await host.request(ModelBegin(1, len(sine.data), hashlib.sha256(sine.data).digest(), "sine", "2"))
    assert begin.offset == 0
    for offset in range(0, len(sine.data), 1000):
        await host.send(ModelChunk(offset, sine.data[offset : offset + 1000]))
    await host.send(ModelCommit(1))
    await host.send(Ping(b"after"))
    async with asyncio.timeout(10):
        answers = [(await host.response())[1] for _ in range(6)]
    assert len(sine.data) == 3568 and [a.next_offset for a in answers[:4]] == [1000, 2000, 3000, 3568]
    assert isinstance(answers[4], CommitAck) and isinstance(answers[5], Pong)
    status = await host.request(ModelActivate(1, 0))
    assert status.active_slot == 1
    await host.close()
    await board.stop()


async def test_farm_on_memory_pipes(sine):
    from fleet.sim.farm import FarmConfig, SimFarm

    config = FarmConfig(boards=2, profiles=("esp32s3", "pico"), seed=4, transport="memory", model=sine.data,
                        link=LinkConfig(baud=None))  # fmt: skip
    async with SimFarm(config) as farm:
        kinds = []
        for board, ports in zip(farm.boards, farm.memory_ports, strict=True):
            host = AsyncHost(await ports.connections.get())
            info = await host.request(Hello())
            kinds.append((info.board_kind, info.uid.hex() == board.uid, info.active_slot))
            await host.close()
        assert kinds == [("esp32s3", True, 0), ("pico", True, 0)]


async def test_a_board_on_a_pausing_clock_keeps_its_timeline_through_a_stalled_loop(tmp_path, gesture):
    """A loaded host runs a board's ticks late. On a clock that pauses when late, the board
    lives none of the delay: results stay back to back, with no gap and no count skipped,
    which exact figures (`fleet bench`'s rate, duty cycle, power) need on any machine."""
    ports = MemoryPorts()
    clock = MonotonicClock(pause_when_late=True)
    engine = make_engine("nano33ble", tmp_path / "flash", name="stall", seed=1, clock=clock)
    program_model(engine, gesture.data)
    board = VirtualBoard(engine, ports, LinkConfig(baud=None), seed=1)
    await board.start()
    host = AsyncHost(await ports.connections.get())
    await host.request(StreamConfig(int(Stream.RESULTS), 1, 0, 100, 0))
    results = [await host.event(InferResult)]
    time.sleep(0.1)  # the whole loop stalls: ~200 inferences of 444 us would be due at once
    results += [await host.event(InferResult) for _ in range(100)]
    assert [r.inference_count for r in results] == list(range(1, 102))
    assert {b.device_time_us - a.device_time_us for a, b in zip(results, results[1:])} == {results[0].latency_us}
    assert time.monotonic_ns() // 1000 - clock.now_us() >= 100_000  # the board sat out the stall
    await host.close()
    await board.stop()
