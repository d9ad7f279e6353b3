"""The client against virtual boards on real PTYs, opened by pyserial: every request type,
events, clock sync, errors, timeouts, and a board that vanishes mid-request."""

from __future__ import annotations

import asyncio
import os
import time
import tty

import pytest

from tests.support.sim import require_sim
from tests.support.wait import until

require_sim()  # runs virtual boards

from fleet.client import BoardClient  # noqa: E402
from fleet.errors import PortVanished, RequestTimeout, UploadError  # noqa: E402
from fleet.protocol import (  # noqa: E402
    BootReason, Boot, InferResult, LogLevel, ModelActivate, ModelCommit, ModelConfirm, ModelRollback, Ping, Power, Reboot,
    RebootAck, SlotState, SlotStatus, Stream, StreamConfig, StreamConfigAck,
)  # fmt: skip
from fleet.models.bundled import bundled_model  # noqa: E402
from fleet.sim.farm import FarmConfig, SimFarm  # noqa: E402
from fleet.sim.virtual_board import LinkConfig  # noqa: E402
from fleet.transport.serial import open_transport  # noqa: E402




@pytest.fixture
async def board(tmp_path):
    path = bundled_model("sine")
    config = FarmConfig(boards=1, profiles=("esp32s3",), seed=3, state_dir=tmp_path, model=path.read_bytes(),
                        model_name="sine", link=LinkConfig(baud=921600, turnaround_us=500))  # fmt: skip
    async with SimFarm(config) as farm:
        yield farm.boards[0]


async def connect(board) -> BoardClient:
    return await BoardClient.connect(await open_transport(board.port, 921600), timeout=1.0, retries=1)


async def test_handshake_reports_the_board(board):
    client = await connect(board)
    info = client.info
    assert info.uid.hex() == board.uid
    assert (info.board_kind, info.proto_version, info.cpu_hz) == ("esp32s3", 1, 240_000_000)
    assert info.arena_bytes == 327_680 and info.max_payload >= 512
    assert info.active.name == "sine" and info.active.state == SlotState.ACTIVE
    await client.close()


async def test_ping_echo_and_clock_estimate(board):
    client = await connect(board)
    pong, t0, t1 = await client.ping(b"\x00\x01\x02")
    assert pong.data == b"\x00\x01\x02"
    started = time.monotonic()
    clock = await client.sync_clock(samples=4)
    assert 0 < clock.rtt_s <= time.monotonic() - started  # seconds, of one of the pings just made
    # The board's clock maps onto ours: a fresh PONG's time lands inside its round trip, give
    # or take the estimate's own error. The virtual board reads the host's monotonic clock, so
    # that error is at most half the best sample's round trip however loaded the machine is
    # (and 1 us of rounding to whole microseconds each way).
    pong, t0, t1 = await client.ping()
    slack = clock.rtt_s / 2 + 2e-6
    assert t0 - slack <= clock.to_host(pong.device_time_us) <= t1 + slack
    await client.close()


async def test_streams_deliver_results_and_power(board):
    client = await connect(board)
    sub = client.subscribe()
    applied = await client.request(StreamConfig(Stream.RESULTS | Stream.POWER, LogLevel.INFO, 10, 50, 0))
    assert isinstance(applied, StreamConfigAck) and applied.streams == Stream.RESULTS | Stream.POWER
    seen = {InferResult: 0, Power: 0}
    while min(seen.values()) < 3:
        event = await asyncio.wait_for(sub.get(), 5)
        if type(event) in seen:
            seen[type(event)] += 1
        if isinstance(event, InferResult):
            assert event.model_prefix == client.info.active.sha256[:4]
            assert len(event.data) == 1  # sine: one int8 output
    await client.request(StreamConfig(Stream.NONE))
    await client.close()


async def test_reboot_request_answers_then_boots(board):
    client = await connect(board)
    sub = client.subscribe()
    assert isinstance(await client.request(Reboot(0)), RebootAck)
    # The power-on BOOT may reach us too, if the board sent it after the port was opened.
    event = await asyncio.wait_for(sub.get(), 5)
    if isinstance(event, Boot) and event.reason == BootReason.POWER_ON:
        event = await asyncio.wait_for(sub.get(), 5)
    assert isinstance(event, Boot) and event.reason == BootReason.REQUESTED
    assert client.boots in (1, 2)
    await client.close()


async def test_slot_requests_and_their_errors(board):
    client = await connect(board)
    with pytest.raises(UploadError, match="NO_UPLOAD"):
        await client.request(ModelCommit(1))
    with pytest.raises(UploadError, match="NOT_VERIFIED"):
        await client.request(ModelActivate(1))
    with pytest.raises(UploadError, match="NOT_PENDING"):
        await client.request(ModelConfirm(1))
    status = await client.request(ModelRollback())  # nothing pending: a no-op that reports status
    assert isinstance(status, SlotStatus) and status.active_slot == 0
    await client.close()


async def test_board_vanishing_mid_request_fails_the_request(board):
    client = await connect(board)
    received = board.stats.rx_bytes
    ping = asyncio.create_task(client.request(Ping(bytes(900)), timeout=10, retries=0))
    # Unplugged once the request is on the board's line. Its answer could only leave on a
    # timer ~10 ms of loop time after the read (900 bytes back at 921600 baud), later than
    # the poll that sees the read; the loop runs due timers in order and the unplug powers
    # the board off at once, so the board never answers, however late this process runs.
    await until(lambda: board.stats.rx_bytes >= received + 900, "the PING reached the board's line")
    await board.unplug()
    with pytest.raises(PortVanished):
        await asyncio.wait_for(ping, 3)
    await client.close()


async def test_silent_port_times_out_after_retries():
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        transport = await open_transport(os.ttyname(slave), 115200)
        with pytest.raises(RequestTimeout, match="no answer to Hello after 2 tries"):
            await BoardClient.connect(transport, timeout=0.1, retries=1)
    finally:
        os.close(master)
        os.close(slave)


async def test_runtime_lists_what_the_board_can_run(board):
    client = await connect(board)
    runtime = await client.runtime()
    assert runtime is not None and runtime.runtime.startswith("tflite-micro ")
    # esp32s3's profile; CONV_2D (3) and FULLY_CONNECTED (9) among them, no custom operators.
    assert {3, 9} <= set(runtime.builtins) and runtime.customs == ()
    await client.close()
