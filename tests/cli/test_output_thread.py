"""OutputThread: standard output written by a thread, so the event loop never blocks on a
reader that stopped reading (fleet/cli/output_thread.py)."""

from __future__ import annotations

import asyncio
import io
import os
import threading

import pytest

from fleet.cli.output_thread import OutputThread


class _Pipe:
    """An OS pipe whose write end looks like standard output (a text stream with a descriptor)."""

    def __init__(self) -> None:
        self.r, w = os.pipe()
        self.stream = open(w, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def read_all(self) -> bytes:
        chunks = []
        while chunk := os.read(self.r, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self.stream.close()
        os.close(self.r)


async def test_text_arrives_in_order_and_whole_while_the_reader_reads():
    pipe = _Pipe()
    try:
        out = OutputThread(pipe.stream, max_pending=1000)
        reader = threading.Thread(target=lambda: setattr(pipe, "got", pipe.read_all()))
        reader.start()
        lines = [f"line {i} é\n" for i in range(5000)]
        for line in lines:
            await out.write(line)
        await out.close()
        assert out.unwritten == 0
        pipe.stream.close()  # the reader sees the end
        reader.join(timeout=30)
        assert pipe.got.decode() == "".join(lines)
    finally:
        os.close(pipe.r)


async def test_a_reader_that_stops_reading_never_blocks_the_loop_and_is_given_up_at_close():
    pipe = _Pipe()
    try:
        out = OutputThread(pipe.stream, max_pending=1 << 14, stall_s=0.2)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        tick = asyncio.create_task(ticker())
        writer = asyncio.create_task(_write_forever(out))
        # The pipe (64 KiB) and then the queue fill; the writer waits for room, the loop runs on.
        while out._pending <= 1 << 14:
            await asyncio.sleep(0.01)
        before = ticks
        await asyncio.sleep(0.05)
        assert ticks > before and not writer.done()  # the loop is not blocked
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
        await out.close()  # nothing is read: given up after stall_s, not waited on forever
        assert out.unwritten > 1 << 14
        tick.cancel()
    finally:
        pipe.close()


async def _write_forever(out: OutputThread) -> None:
    while True:
        await out.write("x" * 1000 + "\n")


async def test_a_closed_pipe_is_raised_to_the_writer():
    pipe = _Pipe()
    os.close(pipe.r)
    out = OutputThread(pipe.stream)
    with pytest.raises(BrokenPipeError):
        for _ in range(1000):
            await out.write("text\n")
            await asyncio.sleep(0.001)
        await out.close()
    pipe.stream.close()  # nothing was left in its buffer: the thread wrote to the descriptor


async def test_a_stream_without_a_descriptor_is_written_directly():
    stream = io.StringIO()
    out = OutputThread(stream)
    await out.write("a\n")
    out.put("b\n")
    await out.close()
    assert stream.getvalue() == "a\nb\n"
