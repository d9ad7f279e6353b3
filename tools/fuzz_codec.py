"""Fuzz the protocol decoder with random and mutated frames.

    python tools/fuzz_codec.py --count 1000000 --seed 1

Every input goes through the streaming FrameDecoder, and every frame it yields through
decode_message. The only acceptable failures are fleet's typed ProtocolErrors; anything
else (or a hang, caught by the caller's timeout) is a bug. Mutations start from the golden
frames so the fuzzer reaches deep into message decoding, not just the CRC check.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from fleet.errors import ProtocolError
from fleet.protocol import FrameDecoder, decode_frame, decode_message
from fleet.protocol.framing import encode_frame

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden" / "frames.json"


@dataclass
class FuzzStats:
    inputs: int = 0
    frames: int = 0
    messages: int = 0
    typed_errors: int = 0
    seconds: float = 0.0


def _seeds() -> list[bytes]:
    golden = json.loads(GOLDEN.read_text())
    return [bytes.fromhex(e["hex"]) for e in golden["frames"]]


def _payload_seeds(seeds: list[bytes]) -> list[tuple[int, int, bytes]]:
    """(type, flags, payload) of every golden frame, to re-frame mutated payloads with a valid CRC."""
    out = []
    for raw in seeds:
        frame = decode_frame(raw[:-1])
        out.append((frame.header.type, frame.header.flags, frame.payload))
    return out


def _mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        if op == 0 and buf:  # flip a bit
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:  # set a byte
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif op == 2:  # insert bytes
            i = rng.randrange(len(buf) + 1)
            buf[i:i] = rng.randbytes(rng.randint(1, 8))
        elif op == 3 and buf:  # delete a run
            i = rng.randrange(len(buf))
            del buf[i : i + rng.randint(1, 8)]
        elif op == 4:  # truncate
            del buf[rng.randint(0, len(buf)) :]
        else:  # duplicate a run
            i = rng.randrange(len(buf) + 1)
            buf[i:i] = buf[i : i + rng.randint(1, 16)]
    return bytes(buf)


def run(count: int, seed: int = 1) -> FuzzStats:
    """Feed `count` inputs; raise AssertionError on any untyped exception."""
    rng = random.Random(seed)
    seeds = _seeds()
    payloads = _payload_seeds(seeds)
    stats = FuzzStats()
    decoder = FrameDecoder(max_payload=1024)
    start = time.perf_counter()
    for _ in range(count):
        kind = rng.randrange(4)
        if kind == 0:  # random bytes
            data = rng.randbytes(rng.randint(0, 64))
        elif kind == 1:  # a mutated whole frame: mostly exercises framing
            data = _mutate(rng, rng.choice(seeds))
        else:  # a mutated payload in a valid frame: exercises message decoding
            type_, flags, payload = rng.choice(payloads)
            if kind == 3:
                type_ = rng.randrange(256) if rng.random() < 0.2 else type_
                flags = rng.randrange(4)
            data = encode_frame(type_, rng.randrange(65536), flags, _mutate(rng, payload))
        stats.inputs += 1
        try:
            frames = decoder.feed(data)
        except Exception as exc:  # noqa: BLE001 - the point is to catch anything
            raise AssertionError(f"FrameDecoder.feed raised {exc!r} on {data.hex()}") from exc
        for frame in frames:
            stats.frames += 1
            try:
                decode_message(frame)
                stats.messages += 1
            except ProtocolError:
                stats.typed_errors += 1
            except Exception as exc:  # noqa: BLE001
                raise AssertionError(f"decode_message raised {exc!r} on {frame}") from exc
    stats.seconds = time.perf_counter() - start
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description="Fuzz the fleet protocol decoder.")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    stats = run(args.count, args.seed)
    print(
        f"{stats.inputs} inputs in {stats.seconds:.1f} s ({stats.inputs / stats.seconds:,.0f}/s): "
        f"{stats.frames} frames, {stats.messages} decoded messages, {stats.typed_errors} typed errors, no crash"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
