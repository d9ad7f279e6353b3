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
from fleet.protocol import encode_message
from fleet.sim.board import make_engine, program_model
from fleet.sim.faults import FaultSpec
from fleet.sim.ports import MemoryPorts
from fleet.sim.runner import LinkConfig, VirtualBoard
from tests.sim.helpers import AsyncHost


async def started(tmp_path, link: LinkConfig, *, model: bytes | None = None, seed=1, profile="nano33ble"):
    ports = MemoryPorts()
    engine = make_engine(profile, tmp_path / f"flash{seed}", name=f"run{seed}", seed=seed, max_lag_us=200_000)
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
    # ~914 bytes each way at 9600 B/s: about 0.19 s, however fast the host wrote them.
    assert isinstance(pong, Pong) and 0.18 <= elapsed < 1.0
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
    board, _, host = await started(tmp_path, LinkConfig(baud=921_600), model=sine)
    await host.request(StreamConfig(int(Stream.RESULTS | Stream.POWER), 1, 10, 50, 0))
    t0 = time.monotonic()
    results = [await host.event(InferResult) for _ in range(20)]
    elapsed = time.monotonic() - t0
    assert 0.15 < elapsed < 2.0  # 20 results at one per 10 ms
    assert [r.inference_count for r in results] == list(range(1, 21))
    power = await host.event(Power)
    assert power.energy_uj > 0
    await host.close()
    await board.stop()


async def test_slow_line_holds_back_the_results_stream(tmp_path, sine):
    """Back-to-back inference on a 9600-baud line: results come at line rate, not at 13 kHz."""
    board, _, host = await started(tmp_path, LinkConfig(baud=9600), model=sine)
    await host.request(StreamConfig(int(Stream.RESULTS), 1, 0, 100, 0))
    await asyncio.sleep(0.5)
    count = board.engine.inference_count
    frame = 12 + 35 + 2  # header + CRC, INFER_RESULT with 1 byte of output, COBS overhead and delimiter
    line = 0.5 * 9600 / 10 + board.link.tx_buffer  # what the line carried plus the UART buffer
    assert 5 <= count <= line / frame + 2
    await host.close()
    await board.stop()


async def test_unplug_and_replug_same_uid(tmp_path, sine):
    board, ports, host = await started(tmp_path, LinkConfig(baud=None), model=sine)
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
    board, _, host = await started(tmp_path, LinkConfig(baud=921_600), model=sine)
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
    link = LinkConfig(baud=None, turnaround_us=0, faults=FaultSpec(ber=2e-3))
    board, _, host = await started(tmp_path, link, seed=seed)
    outcomes = []
    for n in range(40):
        try:
            outcomes.append(isinstance(await host.request(Ping(n.to_bytes(4, "little") * 4), timeout=0.1), Pong))
        except TimeoutError:
            outcomes.append(False)
    await host.close()
    await board.stop()
    return outcomes


async def test_line_noise_is_reproducible_with_a_seed(tmp_path):
    first = await ping_outcomes(tmp_path / "a", seed=5)
    again = await ping_outcomes(tmp_path / "b", seed=5)
    assert first == again
    assert 0 < first.count(False) < 40


async def test_upload_with_pipelined_chunks_and_commit_off_the_loop(tmp_path, sine):
    """Chunks pipelined up to the window, then COMMIT (test-load in a worker thread) with a PING
    queued behind it: answers come back in request order."""
    board, _, host = await started(tmp_path, LinkConfig(baud=921_600))
    begin = await host.request(ModelBegin(1, len(sine), hashlib.sha256(sine).digest(), "sine", "2"))
    assert begin.offset == 0
    for offset in range(0, len(sine), 1000):
        host.seq += 1
        await host.transport.write(encode_message(ModelChunk(offset, sine[offset : offset + 1000]), host.seq))
    host.seq += 1
    await host.transport.write(encode_message(ModelCommit(1), host.seq))
    host.seq += 1
    await host.transport.write(encode_message(Ping(b"after"), host.seq))
    async with asyncio.timeout(10):
        answers = [(await host._responses.get())[1] for _ in range(6)]
    assert len(sine) == 3568 and [a.next_offset for a in answers[:4]] == [1000, 2000, 3000, 3568]
    assert isinstance(answers[4], CommitAck) and isinstance(answers[5], Pong)
    status = await host.request(ModelActivate(1, 0))
    assert status.active_slot == 1
    await host.close()
    await board.stop()


async def test_farm_on_memory_pipes(sine):
    from fleet.sim.farm import FarmConfig, SimFarm

    config = FarmConfig(boards=2, profiles=("esp32s3", "pico"), seed=4, transport="memory", model=sine,
                        link=LinkConfig(baud=None))  # fmt: skip
    async with SimFarm(config) as farm:
        kinds = []
        for board, ports in zip(farm.boards, farm.memory_ports, strict=True):
            host = AsyncHost(await ports.connections.get())
            info = await host.request(Hello())
            kinds.append((info.board_kind, info.uid.hex() == board.uid, info.active_slot))
            await host.close()
        assert kinds == [("esp32s3", True, 0), ("pico", True, 0)]
