"""Host CPU per telemetry event, without PTYs or a simulator: the manager's own cost.

    python benchmarks/bench_ingest.py [--boards 32] [--seconds 2 | --rounds N] [--batch 1] [--tui] [--pause-ms 0]

Each board connects through the manager's API (`add_board`, over an in-memory pipe whose
far end answers like a replay board: HELLO, PING, STREAM_CONFIG). Then pre-encoded
INFER_RESULT (gesture: 4 int8 outputs, labelled) and POWER frames, two results to one power
sample as in bench_telemetry, are handed to each board's `BoardClient` in chunks of
`--batch` frames, as its transport's reader would hand them over; everything after
the bytes arrive runs as in `fleet monitor`: frame decoding, message decoding (with every
check of board input), conversion to telemetry events, the board's state and statistics,
the fan-out and one consumer that takes every event (`--tui`: and folds it into the TUI's
`Feed`, as `fleet tui` does). No event loop turn is spent waiting:
the figure is pure CPU per event, so it stays comparable on a machine that other work
keeps busy, where bench_telemetry's wall-clock figures do not. What it leaves out (the
event loop's wake-ups per read, and the PTY) is what bench_telemetry adds.

`--pause-ms 8` reads the boards in passes, one chunk of each, and idles that long between
passes, as the port poller does: on a virtual machine whose processor runs slower after an
idle spell, it shows how much of bench_telemetry's cost per event is that, not more work.

`--rounds N` does a fixed amount of work instead (N times every board's stream), for
counting instructions: `bench_instructions.py` runs it under valgrind, whose counts do not
depend on what else the machine is doing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if "PYTHONPATH" not in os.environ:
    sys.path.insert(0, str(REPO))

from fleet.client import BoardClient  # noqa: E402
from fleet.config import FleetConfig  # noqa: E402
from fleet.errors import PortVanished  # noqa: E402
from fleet.manager import FleetManager  # noqa: E402
from fleet.protocol import FrameDecoder, InferResult, Power, encode_message  # noqa: E402
from fleet.protocol.framing import DELIMITER  # noqa: E402
from fleet.transport.memory import memory_pipe  # noqa: E402

from replay_boards import Responder, board_info  # noqa: E402

GESTURE = REPO / "fleet" / "models" / "examples" / "gesture.tflite"


def board_frames(sha: bytes, n: int) -> list[bytes]:
    """n results at 200/s with a power sample after every second one, as a board sends them."""
    frames, seq = [], 0
    for i in range(n):
        seq += 1
        t = 1_000_000 + i * 5000
        data = bytes((i * 37 + k * 11) % 256 for k in range(4))
        frames.append(encode_message(InferResult(t, 800, i + 1, i % 256, sha[:4], 9, 0, 1 / 256, -128, data), seq))
        if i % 2:
            seq += 1
            frames.append(encode_message(Power(t + 10, 3300, 12_000 + i % 50, 40 * i), seq))
    return frames


def receive(client: BoardClient, chunk: bytes) -> None:
    """What the client's reader does with a chunk (spelled out for trees before `_receive`,
    so the same script measures a change's before and after: PYTHONPATH=<old tree>)."""
    if hasattr(client, "_receive"):
        client._receive(chunk)
        return
    for frame in client._decoder.feed(chunk):
        client._dispatch(frame)
    client._sync_decoder_stats()


def take(consumer) -> list:  # noqa: ANN001 - a Consumer, of either tree
    if hasattr(consumer, "take"):
        return consumer.take(1 << 20)
    batch = []
    while (event := consumer.get_nowait()) is not None:
        batch.append(event)
    return batch


async def answer_host(board_end, responder: Responder) -> None:  # noqa: ANN001 - a MemoryTransport
    """The board's side of its pipe while the manager connects: HELLO, PINGs, STREAM_CONFIG."""
    decoder = FrameDecoder()
    with contextlib.suppress(PortVanished):
        while True:
            answers = responder.requests(decoder, await board_end.read())
            if answers:
                await board_end.write(answers)


async def measure(args: argparse.Namespace) -> dict:
    sha = hashlib.sha256(GESTURE.read_bytes()).digest()
    manager = FleetManager(FleetConfig(), discover=False)
    consumer = manager.subscribe(maxsize=1 << 20, name="bench")
    feeds, boards = [], []
    for b in range(args.boards):
        host_end, board_end = memory_pipe(f"bench-{b}")
        boards.append(asyncio.create_task(answer_host(board_end, Responder(board_info(b, sha, "bench"), lambda: 0))))

        async def connect(transport=host_end) -> BoardClient:  # noqa: ANN001
            return await BoardClient.connect(transport)

        state = await manager.add_board(connect, name=f"board-{b:03d}")
        frames = board_frames(sha, args.results)
        chunks = [DELIMITER.join(frames[i : i + args.batch]) for i in range(0, len(frames), args.batch)]
        feeds.append((state.uid, chunks))
    await manager.start()
    # Set up through the manager's API as any board is; from here the frames are handed to
    # each client as its transport's reader would hand them over.
    feeds = [(manager.client(uid), chunks) for uid, chunks in feeds]
    assert all(client is not None for client, _ in feeds), "a board did not come online"
    take(consumer)  # the state events of the start
    feed = None
    if args.tui:
        from fleet.tui.feed import Feed  # what `fleet tui` folds every event into (no Textual)

        feed = Feed(manager)
    events = 0
    cpu0 = time.process_time()
    rounds = 0
    deadline = time.monotonic() + args.seconds
    # --pause-ms: passes as the port poller makes them (a chunk from every board, then the
    # consumer, then a pause); else each board's stream at once.
    passes = [[(client, chunks[i]) for client, chunks in feeds] for i in range(len(feeds[0][1]))] if args.pause_ms else [
        [(client, chunk) for chunk in chunks] for client, chunks in feeds]  # fmt: skip
    while rounds < args.rounds if args.rounds else time.monotonic() < deadline:
        for reads in passes:
            for client, chunk in reads:
                receive(client, chunk)
            batch = take(consumer)
            events += len(batch)
            if feed is not None:
                feed.ingest(batch)
            if args.pause_ms:
                time.sleep(args.pause_ms / 1000)  # the process idles, as between the poller's passes
        rounds += 1
    cpu = time.process_time() - cpu0
    results = sum(b.stats.results for b in manager.boards.values())
    assert consumer.dropped == 0 and events == rounds * args.boards * len(board_frames(sha, args.results)), "events lost"
    for task in boards:
        task.cancel()
    return {
        "boards": args.boards, "batch": args.batch, "consumer": "tui feed" if args.tui else "counter", "events": events, "results": results, "cpu_s": round(cpu, 3),
        "cpu_us_per_event": round(cpu / events * 1e6, 2),
        "cores_at_32x200_plus_100hz": round(cpu / events * 32 * 300, 3),
        "cores_at_128x200": round(cpu / events * 128 * 200, 3),
    }  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--boards", type=int, default=32)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--rounds", type=int, default=0, help="a fixed number of rounds instead of --seconds")
    p.add_argument("--results", type=int, default=200, help="results per board in the repeated stream")
    p.add_argument("--batch", type=int, default=1, help="frames per transport read (1: a board's frames one by one)")
    p.add_argument("--tui", action="store_true", help="the consumer is the TUI's feed (charts, logs), not a counter")
    p.add_argument("--pause-ms", type=float, default=0.0,
                   help="read the boards in passes (a chunk of each) with this pause between them, as the port poller does")
    args = p.parse_args()
    print(json.dumps(asyncio.run(measure(args)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
