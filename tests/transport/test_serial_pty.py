"""SerialTransport on a real pseudo-terminal opened by pyserial, as a USB CDC port would be."""

import asyncio
import os
import tty

import pytest

from fleet.errors import PortBusy, PortNotFound, PortVanished
from fleet.transport.serial import SerialTransport, open_serial


@pytest.fixture
def pty_pair():
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    yield master, path
    for fd in (master, slave):
        try:
            os.close(fd)
        except OSError:
            pass


async def test_bytes_flow_both_ways(pty_pair):
    master, path = pty_pair
    t = await SerialTransport.open(path, 115200)
    os.write(master, b"\x01\x02\x00hello")
    got = b""
    while len(got) < 8:
        got += await asyncio.wait_for(t.read(), 2)
    assert got == b"\x01\x02\x00hello"
    big = bytes(range(256)) * 64  # more than a PTY buffers: the write must wait, not fail
    reader = asyncio.get_running_loop().run_in_executor(None, _read_exactly, master, len(big))
    await asyncio.wait_for(t.write(big), 5)
    assert await asyncio.wait_for(reader, 5) == big
    await t.close()
    with pytest.raises(PortVanished):
        await t.read()


def _read_exactly(fd: int, n: int) -> bytes:
    out = b""
    while len(out) < n:
        out += os.read(fd, n - len(out))
    return out


async def test_other_end_closing_is_port_vanished(pty_pair):
    master, path = pty_pair
    t = await SerialTransport.open(path)
    os.close(master)
    with pytest.raises(PortVanished, match="went away"):
        await asyncio.wait_for(t.read(), 2)
    await t.close()


async def test_missing_port_is_port_not_found():
    with pytest.raises(PortNotFound, match="/dev/ttyNOPE0"):
        await SerialTransport.open("/dev/ttyNOPE0")


def test_a_second_opener_is_refused_with_port_busy(pty_pair):
    _, path = pty_pair
    first = open_serial(path, 115200)
    try:
        with pytest.raises(PortBusy, match="in use"):
            open_serial(path, 115200)
    finally:
        first.close()
