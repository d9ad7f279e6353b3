"""Compression ratio of candidate upload encodings on the bundled and shared example models
(the table in firmware/PROTOCOL.md 10.3).

    python tools/measure_encodings.py

Ratio = model bytes / encoded bytes. lz4 and heatshrink2 are not fleet dependencies; their
columns print `-` unless they are installed (`pip install lz4 heatshrink2`).
"""

from __future__ import annotations

import collections
import lzma
import math
import time
import zlib
from pathlib import Path

from fleet.upload_codec import encode

ROOT = Path(__file__).resolve().parent.parent
MODELS = sorted((ROOT.parent / "shared" / "models").glob("*.tflite")) + sorted((ROOT / "fleet" / "models" / "examples").glob("*.tflite"))


def _entropy_bound(data: bytes) -> float:
    counts = collections.Counter(data)
    bits = -sum(n * math.log2(n / len(data)) for n in counts.values())
    return len(data) * 8 / bits


def _optional(data: bytes) -> tuple[str, str]:
    try:
        import lz4.block

        lz4_ratio = f"{len(data) / len(lz4.block.compress(data, mode='high_compression', compression=12, store_size=False)):.3f}"
    except ImportError:
        lz4_ratio = "-"
    try:
        import heatshrink2

        hs_ratio = f"{len(data) / len(heatshrink2.compress(data, window_sz2=11, lookahead_sz2=4)):.3f}"
    except ImportError:
        hs_ratio = "-"
    return lz4_ratio, hs_ratio


def main() -> None:
    print("| model | bytes | zlib -9 | deflate blocks of 16 KiB (this format) | encode ms | lzma -9e | lz4 HC 12 | heatshrink w11 l4 | order-0 entropy bound |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in MODELS:
        data = path.read_bytes()
        t0 = time.perf_counter()
        stream = encode(data).stream
        ms = (time.perf_counter() - t0) * 1000
        xz = lzma.compress(data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, "preset": 9 | lzma.PRESET_EXTREME}])
        lz4_ratio, hs_ratio = _optional(data)
        n = len(data)
        print(f"| {path.stem} | {n:,} | {n / len(zlib.compress(data, 9)):.3f} | {n / len(stream):.3f} | {ms:.0f} | "
              f"{n / len(xz):.3f} | {lz4_ratio} | {hs_ratio} | {_entropy_bound(data):.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
