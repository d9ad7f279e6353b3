"""Virtual boards on real pseudo-terminals, opened with pyserial exactly like /dev/ttyACM*."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
import serial

from fleet.protocol import Boot, FrameDecoder, Hello, Info, Ping, Pong, decode_message, encode_message
from fleet.sim.farm import FarmConfig, SimFarm
from fleet.virtual_ports import registered_boards
from fleet.sim.virtual_board import LinkConfig


def ask(port: str | serial.Serial, msg, seq: int = 1, timeout: float = 3.0):
    """Blocking: open (or reuse) the port, send one request, return the response."""
    ser = serial.Serial(port, 115200, timeout=0.05) if isinstance(port, str) else port
    decoder = FrameDecoder(65535)
    try:
        ser.write(b"\x00" + encode_message(msg, seq))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for frame in decoder.feed(ser.read(4096)):
                if frame.header.is_response and frame.header.seq == seq:
                    return decode_message(frame)
        raise TimeoutError(f"no response from {ser.port}")
    finally:
        if isinstance(port, str):
            ser.close()


async def test_pyserial_talks_to_a_pty_board(tmp_path):
    async with SimFarm(FarmConfig(boards=1, profiles=("pico",), seed=3, state_dir=tmp_path)) as farm:
        board = farm.boards[0]
        assert board.port.startswith("/dev/") and os.path.exists(board.port)
        info = await asyncio.to_thread(ask, board.port, Hello())
        assert isinstance(info, Info) and info.board_kind == "pico" and info.uid.hex() == board.uid


async def test_host_closing_and_reopening_the_port(tmp_path):
    async with SimFarm(FarmConfig(boards=1, state_dir=tmp_path)) as farm:
        port = farm.boards[0].port
        for n in range(3):  # each close leaves the master reading EIO until the next open
            pong = await asyncio.to_thread(ask, port, Ping(bytes([n])), n + 1)
            assert isinstance(pong, Pong) and pong.data == bytes([n])
            await asyncio.sleep(0.1)
        assert farm.boards[0].engine.stats.requests == 3


async def test_unplug_makes_the_port_vanish_and_replug_gives_a_new_one(tmp_path):
    async with SimFarm(FarmConfig(boards=1, state_dir=tmp_path, link=LinkConfig(baud=None))) as farm:
        board = farm.boards[0]
        old = board.port
        ser = serial.Serial(old, timeout=0.2)
        await board.unplug()
        assert not os.path.exists(old)
        with pytest.raises(serial.SerialException):
            await asyncio.to_thread(ser.read, 10)
        ser.close()
        await board.plug()
        info = await asyncio.to_thread(ask, board.port, Hello())
        assert info.uid.hex() == board.uid


async def test_boot_event_reaches_a_host_that_holds_the_port(tmp_path):
    async with SimFarm(FarmConfig(boards=1, state_dir=tmp_path, link=LinkConfig(baud=None))) as farm:
        board = farm.boards[0]
        ser = serial.Serial(board.port, timeout=0.05)
        board.reset()
        decoder, events = FrameDecoder(), []
        deadline = time.monotonic() + 3
        while not events and time.monotonic() < deadline:
            events = [decode_message(f) for f in decoder.feed(await asyncio.to_thread(ser.read, 256))]
        ser.close()
        assert isinstance(events[0], Boot) and events[0].boot_count == 2


async def test_farm_registers_and_cleans_up(tmp_path):
    registry = tmp_path / "registry"
    config = FarmConfig(boards=3, profiles=("mixed",), seed=9, register=True, registry_dir=registry)
    async with SimFarm(config) as farm:
        listed = registered_boards(registry)
        assert sorted(b.uid for b in listed) == sorted(b.uid for b in farm.boards)
        assert {b.profile for b in listed} == {"nano33ble", "esp32s3", "pico"}
        assert all(b.pid == os.getpid() and b.baud == 115200 for b in listed)
        await farm.boards[0].unplug()
        assert len(registered_boards(registry)) == 2
        # Still part of the fleet while unplugged, without a port (its PTY number is free for anyone).
        everyone = {b.uid: b.port for b in registered_boards(registry, unplugged=True)}
        assert len(everyone) == 3 and everyone[farm.boards[0].uid] == ""
        await farm.boards[0].plug()
        assert {b.uid: b.port for b in registered_boards(registry)}[farm.boards[0].uid] == farm.boards[0].port
        state = farm._temp_state
        assert state is not None and state.exists()
    assert registered_boards(registry) == [] and not registry.exists() and not state.exists()
