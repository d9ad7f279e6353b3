"""PortPoller: the ports of a loop read in shared passes, at most one pass per interval (sized
by the ports read), and a port awaiting an answer read at once."""

import asyncio
import os

import pytest

from fleet.transport.poller import PortPoller, poller_for


@pytest.fixture
def pipes():
    made = [os.pipe() for _ in range(3)]
    for r, _ in made:
        os.set_blocking(r, False)
    yield made
    for pair in made:
        for fd in pair:
            try:
                os.close(fd)
            except OSError:
                pass


def _reader(fd: int, got: list, done: asyncio.Event, want: int):  # noqa: ANN202
    def on_readable() -> None:
        got.append((fd, os.read(fd, 100)))
        if len(got) >= want:
            done.set()

    return on_readable


async def test_ports_ready_together_are_read_in_one_pass(pipes):
    poller = PortPoller(asyncio.get_running_loop(), interval_s=0.002)
    got: list = []
    done = asyncio.Event()
    for r, _ in pipes:
        poller.add(r, _reader(r, got, done, len(pipes)))
    for i, (_, w) in enumerate(pipes):
        os.write(w, b"frame %d" % i)
    await asyncio.wait_for(done.wait(), 10)
    assert sorted(got) == sorted((r, b"frame %d" % i) for i, (r, _) in enumerate(pipes))
    assert poller.passes == 1
    for r, _ in pipes:
        poller.remove(r)


async def test_a_port_ready_within_the_interval_waits_for_the_next_pass(pipes):
    loop = asyncio.get_running_loop()
    poller = PortPoller(loop, interval_s=0.05)
    r, w = pipes[0]
    times: list[float] = []
    second = asyncio.Event()

    def on_readable() -> None:
        os.read(r, 100)
        times.append(loop.time())
        if len(times) == 2:
            second.set()

    poller.add(r, on_readable)
    os.write(w, b"a")  # the first pass runs at once: nothing was read for longer than the interval
    while not times:
        await asyncio.sleep(0)
    os.write(w, b"b")  # ready again at once, but read only one interval after the first pass
    await asyncio.wait_for(second.wait(), 10)
    assert times[1] - times[0] >= 0.05
    assert poller.passes == 2
    poller.remove(r)


async def test_a_port_removed_in_a_pass_is_not_read_again(pipes):
    poller = PortPoller(asyncio.get_running_loop(), interval_s=0.001)
    (r1, w1), (r2, w2) = pipes[0], pipes[1]
    calls: list[int] = []
    again = asyncio.Event()

    def first() -> None:
        calls.append(r1)
        os.read(r1, 100)
        poller.remove(r2)  # a port's reader may end another's (a board gone: its link closes)
        if calls.count(r1) == 2:
            again.set()

    poller.add(r1, first)
    poller.add(r2, lambda: calls.append(r2))
    os.write(w1, b"x")
    while not calls:
        await asyncio.sleep(0)
    os.write(w2, b"y")
    os.write(w1, b"x")
    await asyncio.wait_for(again.wait(), 10)
    assert calls == [r1, r1]
    poller.remove(r1)


async def test_the_loop_has_one_poller_while_it_has_ports(pipes):
    loop = asyncio.get_running_loop()
    poller = poller_for(loop)
    assert poller_for(loop) is poller
    r, _ = pipes[0]
    poller.add(r, lambda: None)
    poller.remove(r)  # the last port: this poller is done, the next port gets a new one
    assert poller_for(loop) is not poller


async def test_the_pause_after_a_pass_grows_with_the_ports_it_read(pipes, monkeypatch):
    import fleet.transport.poller as poller_module

    monkeypatch.setattr(poller_module, "PER_PORT_S", 0.004)
    poller = PortPoller(asyncio.get_running_loop())
    got: list = []
    done = asyncio.Event()
    for r, _ in pipes:
        poller.add(r, _reader(r, got, done, len(pipes)))
    for _, w in pipes:
        os.write(w, b"x")
    await asyncio.wait_for(done.wait(), 10)
    assert poller.passes == 1
    assert poller.interval_s == poller_module.MAX_INTERVAL_S  # 3 ports x 4 ms, capped at 10 ms
    got.clear()
    done.clear()
    os.write(pipes[0][1], b"y")
    await asyncio.wait_for(_until(lambda: got), 10)
    assert poller.interval_s == 0.004  # one port read
    for r, _ in pipes:
        poller.remove(r)


async def test_a_port_awaiting_an_answer_is_read_at_once(pipes):
    poller = PortPoller(asyncio.get_running_loop(), interval_s=3600.0)  # the next pass: in an hour
    r, w = pipes[0]
    got: list[bytes] = []
    poller.add(r, lambda: got.append(os.read(r, 100)))
    os.write(w, b"first")  # read at once: nothing was read for longer than the interval
    await asyncio.wait_for(_until(lambda: got), 10)
    poller.prompt(r, True)
    os.write(w, b"answer")
    await asyncio.wait_for(_until(lambda: len(got) == 2), 10)  # not an hour later
    assert got == [b"first", b"answer"] and poller.passes == 1
    poller.prompt(r, False)
    os.write(w, b"stream")
    await asyncio.sleep(0.05)
    assert len(got) == 2  # back to the passes
    poller.remove(r)


async def _until(condition) -> None:  # noqa: ANN001
    while not condition():
        await asyncio.sleep(0.001)
