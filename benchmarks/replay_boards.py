"""A light load generator: boards on PTYs that replay pre-encoded telemetry frames.

    python benchmarks/replay_boards.py --boards 128 [--rate 200] [--power-hz 0] [--seconds 40]

`fleet sim` runs a TFLite Micro interpreter and a board engine per virtual board: on a
2-core machine shared with other work it cannot keep 32 boards at 200 results/s, let
alone 128. These boards do no work while streaming: at start-up each encodes, once, every
frame it will send in `--seconds` (INFER_RESULT of the bundled gesture model, 4 int8
outputs, and POWER), on its own clock's grid; while streaming, one loop writes each
board's frames that have come due, in one write per board and tick, to its PTY. The
frames are real protocol v1 (COBS, CRC, event seq), so the host does all it does for a
real board. They answer what a host asks while streaming is set up and watched (HELLO with
INFO, PING with the board's clock, STREAM_CONFIG); anything else gets UNKNOWN_TYPE.
Registered like `fleet sim` boards, so discovery finds them; one JSON line per board on
stdout once all are up (as `fleet sim --json`).

The device time in each frame is its place on the grid, so a frame written late carries
its lateness into the device -> consumer latency a benchmark measures, as a real board's
would. `--seconds` bounds the stream (memory: about 60 bytes a frame); a board that runs
out stops streaming and says so on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import hashlib
import json
import os
import signal
import sys
import time
from array import array
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fleet.error_codes import ErrorCode  # noqa: E402
from fleet.protocol import (  # noqa: E402
    Capability, Error, FrameDecoder, Hello, InferResult, Info, Ping, Pong, Power, SlotInfo, SlotState, Stream, StreamConfig,
    StreamConfigAck, decode_message, encode_message,
)  # fmt: skip
from fleet.protocol.codec import encode_error  # noqa: E402
from fleet import virtual_ports as registry  # noqa: E402
from fleet.sim.pty import PtyTransport  # noqa: E402

GESTURE = REPO / "fleet" / "models" / "examples" / "gesture.tflite"
TICK_S = 0.002
BOOT_US = 1_000_000  # the boards' clocks read 1 s at start-up


def board_info(index: int, sha: bytes, kind: str = "replay") -> Info:
    """INFO of replay board `index`: the gesture model active in slot 0, streams it can send."""
    uid = bytes([0x7E, 0x9A, 0, 0, index >> 8, index & 0xFF])
    slots = (SlotInfo(SlotState.ACTIVE, 4096, 4096, sha, "gesture", "1.0.0"), SlotInfo())
    caps = Capability.RESULTS | Capability.POWER | Capability.LOG
    return Info(1, 0, 4096, int(caps), 4, 65536, 65536, 240_000_000, uid, kind, f"{kind} 1", slots)


class Responder:
    """What a replay board answers: HELLO (INFO), PING (its clock), STREAM_CONFIG; else UNKNOWN_TYPE."""

    def __init__(self, info: Info, clock, on_stream_start=None) -> None:  # noqa: ANN001
        self.info = info
        self.clock = clock
        self.streams = 0
        self._on_stream_start = on_stream_start

    def answer(self, request, seq: int) -> bytes:  # noqa: ANN001
        if isinstance(request, Hello):
            return encode_message(self.info, seq)
        if isinstance(request, Ping):
            return encode_message(Pong(self.clock(), request.data), seq)
        if isinstance(request, StreamConfig):
            wanted = request.streams & (Stream.RESULTS | Stream.POWER)
            if wanted and not self.streams and self._on_stream_start is not None:
                self._on_stream_start(self.clock())
            self.streams = wanted
            return encode_message(StreamConfigAck(request.streams, request.log_level, request.result_interval_ms,
                                                  request.power_interval_ms, request.top_k), seq)  # fmt: skip
        return encode_error(Error(ErrorCode.UNKNOWN_TYPE, 0, "replay board"), request.TYPE, seq)

    def requests(self, decoder: FrameDecoder, data: bytes) -> bytes:
        """The answers to the requests `data` completes, in order."""
        out = []
        for frame in decoder.feed(data):
            if frame.header.is_response:
                continue
            try:
                request = decode_message(frame)
            except Exception:  # noqa: BLE001 - a host frame this board does not know
                continue
            out.append(self.answer(request, frame.header.seq))
        return b"".join(out)


class ReplayBoard:
    """One board: its PTY, its pre-encoded stream and where it is in it."""

    def __init__(self, index: int, sha: bytes, frames: list[tuple[int, bytes]], clock) -> None:  # noqa: ANN001
        self.info = board_info(index, sha)
        self.uid = self.info.uid
        self.port = PtyTransport()
        self.responder = Responder(self.info, clock, self.skip_to)
        self.times = array("q", (t for t, _ in frames))
        self.offsets = array("q", [0])
        for _, frame in frames:
            self.offsets.append(self.offsets[-1] + len(frame))
        self.blob = b"".join(f for _, f in frames)
        self.next = 0  # the first frame not yet written
        self.pending = b""  # bytes the PTY had no room for
        self.exhausted = False

    def due(self, now_us: int) -> bytes:
        """The frames whose time has come (of the streams turned on), in one chunk."""
        if not self.responder.streams or self.exhausted:
            return b""
        times, i = self.times, self.next
        j = i
        while j < len(times) and times[j] <= now_us:
            j += 1
        self.next = j
        if j == len(times):
            self.exhausted = True
            print(f"replay board {self.uid.hex()}: stream exhausted (raise --seconds)", file=sys.stderr, flush=True)
        return self.blob[self.offsets[i] : self.offsets[j]] if j > i else b""

    def skip_to(self, now_us: int) -> None:
        """Streaming starts now: frames planned for earlier are never sent."""
        times = self.times
        while self.next < len(times) and times[self.next] < now_us:
            self.next += 1

    def write(self, data: bytes) -> None:
        """Write without waiting; what the PTY has no room for waits for the next tick."""
        data = self.pending + data
        self.pending = b""
        while data:
            try:
                n = os.write(self.port._fd, data)
            except BlockingIOError:
                self.pending = data
                return
            except OSError as exc:
                if exc.errno == errno.EIO:  # no host has the port open: the bytes go nowhere
                    return
                raise
            data = data[n:]

    async def serve(self) -> None:
        """Answer the host's requests."""
        decoder = FrameDecoder()
        while True:
            answers = self.responder.requests(decoder, await self.port.read())
            if answers:
                self.write(answers)


def plan(index: int, boards: int, sha: bytes, rate: float, power_hz: float, seconds: float) -> list[tuple[int, bytes]]:
    """Every frame one board sends in `seconds`, by device time; event seqs follow each other."""
    interval = round(1e6 / rate)
    phase = BOOT_US + index * interval // max(1, boards)  # boards spread over one interval
    times: list[tuple[int, int, int]] = [(phase + k * interval, 0, k) for k in range(int(seconds * rate))]
    if power_hz:
        power_interval = round(1e6 / power_hz)
        times += [(phase + power_interval // 2 + k * power_interval, 1, k) for k in range(int(seconds * power_hz))]
    times.sort()
    frames = []
    for seq, (t, kind, k) in enumerate(times, start=1):
        if kind == 0:
            data = bytes(((k * 37) & 0x7F, (k * 11) & 0x7F, 200 - (k % 64), 5))
            msg = InferResult(t, 800, k + 1, k % 256, sha[:4], 9, 0, 1 / 256, -128, data)
        else:
            msg = Power(t, 3300, 12_000 + k % 50, 40 * k)
        frames.append((t, encode_message(msg, seq & 0xFFFF)))
    return frames


async def run(args: argparse.Namespace) -> None:
    sha = hashlib.sha256(GESTURE.read_bytes()).digest()
    t0 = time.monotonic()

    def clock() -> int:
        return BOOT_US + int((time.monotonic() - t0) * 1e6)

    boards = [ReplayBoard(i, sha, plan(i, args.boards, sha, args.rate, args.power_hz, args.seconds), clock)
              for i in range(args.boards)]  # fmt: skip
    t0 = time.monotonic()  # the clocks start once every stream is encoded
    pid = os.getpid()
    for b in boards:
        registry.register(registry.RegisteredBoard(port=b.port.name, uid=b.uid.hex(), profile="replay", pid=pid))
    servers = [asyncio.create_task(b.serve()) for b in boards]
    for b in boards:
        print(json.dumps({"port": b.port.name, "uid": b.uid.hex(), "profile": "replay"}), flush=True)
    try:
        while True:
            now = clock()
            for b in boards:
                chunk = b.due(now)
                if chunk or b.pending:
                    b.write(chunk)
            await asyncio.sleep(TICK_S)
    finally:
        for task in servers:
            task.cancel()
        for b in boards:
            registry.unregister(b.uid.hex())
            await b.port.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--boards", type=int, default=32)
    p.add_argument("--rate", type=float, default=200.0, help="results per second per board")
    p.add_argument("--power-hz", type=float, default=100.0, help="power samples per second per board (0: none)")
    p.add_argument("--seconds", type=float, default=40.0, help="how long the boards can stream")
    args = p.parse_args()
    loop = asyncio.new_event_loop()
    task = loop.create_task(run(args))
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    loop.add_signal_handler(signal.SIGINT, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        loop.run_until_complete(task)
    return 0


if __name__ == "__main__":
    sys.exit(main())
