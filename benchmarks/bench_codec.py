"""Protocol codec throughput: encode and decode, MB/s of payload and frames/s.

    python benchmarks/bench_codec.py

Encode = message -> wire frame (payload pack, header, CRC-32, COBS). Decode = wire bytes
fed to the streaming FrameDecoder in 4 KiB reads (as a serial reader sees them) -> frames
-> messages. MODEL_CHUNK messages carry the payload, since that is the bulk traffic.
Single-threaded; targets: decode >= 20 MB/s at 1 KiB payloads, >= 50k frames/s at 32 B.
"""

from __future__ import annotations

import random
import time

from fleet.protocol import FrameDecoder, ModelChunk, decode_message, encode_message

SIZES = (32, 256, 1024)
TARGETS = {1024: ("decode MB/s", 20.0), 32: ("decode frames/s", 50_000)}


def _best_of(runs: int, fn) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench(payload_size: int, seconds_hint: float = 0.3) -> dict[str, float]:
    rng = random.Random(payload_size)
    n = max(2000, int(40_000 * 32 / payload_size))
    msgs = [ModelChunk(i * payload_size, rng.randbytes(payload_size - 4)) for i in range(n)]
    wire = b"".join(encode_message(m, i & 0xFFFF) for i, m in enumerate(msgs))
    reads = [wire[i : i + 4096] for i in range(0, len(wire), 4096)]

    def encode() -> None:
        for i, m in enumerate(msgs):
            encode_message(m, i & 0xFFFF)

    def decode() -> None:
        decoder = FrameDecoder(max_payload=payload_size)
        count = 0
        for chunk in reads:
            for frame in decoder.feed(chunk):
                decode_message(frame)
                count += 1
        assert count == n

    t_enc = _best_of(5, encode)
    t_dec = _best_of(5, decode)
    total = n * payload_size
    return {
        "payload": payload_size,
        "encode MB/s": total / t_enc / 1e6,
        "encode frames/s": n / t_enc,
        "decode MB/s": total / t_dec / 1e6,
        "decode frames/s": n / t_dec,
    }


def main() -> None:
    print(f"{'payload':>8} {'encode MB/s':>12} {'encode fr/s':>12} {'decode MB/s':>12} {'decode fr/s':>12}")
    verdicts = []
    for size in SIZES:
        r = bench(size)
        print(
            f"{size:>7}B {r['encode MB/s']:>12.1f} {r['encode frames/s']:>12,.0f} "
            f"{r['decode MB/s']:>12.1f} {r['decode frames/s']:>12,.0f}"
        )
        if size in TARGETS:
            key, target = TARGETS[size]
            ok = r[key] >= target
            verdicts.append(f"{size} B {key} {r[key]:,.1f} (target >= {target:,}): {'met' if ok else 'MISSED'}")
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
