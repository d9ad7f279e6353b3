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


async def test_feed_to_hands_bytes_over_in_order_and_a_receiver_error_ends_reading(pty_pair):
    master, path = pty_pair
    t = await SerialTransport.open(path, 115200)
    os.write(master, b"early")
    for _ in range(100):  # let the loop's reader queue it before anyone asks
        await asyncio.sleep(0.01)
        if not t._inbox.empty():
            break
    got: list[bytes] = []

    def receiver(data: bytes) -> None:
        if b"boom" in data:
            raise ValueError("the reader could not use it")
        got.append(data)

    t.feed_to(receiver)
    os.write(master, b"-late")
    for _ in range(200):
        await asyncio.sleep(0.01)
        if b"".join(got) == b"early-late":
            break
    assert b"".join(got) == b"early-late"  # what was queued first, then the rest, in order
    os.write(master, b"boom")
    with pytest.raises(ValueError, match="could not use it"):
        await asyncio.wait_for(t.read(), 2)  # read() raises what the receiver raised
    os.write(master, b"more")
    await asyncio.sleep(0.05)
    assert b"more" not in b"".join(got)  # reading stopped
    await t.close()


async def test_an_awaited_answer_is_read_before_the_next_pass(pty_pair):
    from fleet.transport.poller import poller_for

    master, path = pty_pair
    t = await SerialTransport.open(path, 115200)
    poller = poller_for(asyncio.get_running_loop())
    poller.fixed_interval_s = poller.interval_s = 3600.0  # the next busy pass: in an hour
    os.write(master, b"first\x00")  # nothing was read for an hour: read at once
    assert await asyncio.wait_for(t.read(), 10) == b"first\x00"
    t.awaiting_answer(True)  # what BoardClient says while a request is pending
    os.write(master, b"answer\x00")
    assert await asyncio.wait_for(t.read(), 10) == b"answer\x00"  # not an hour later
    t.awaiting_answer(False)
    await t.close()
