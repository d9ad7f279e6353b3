"""Write libFuzzer seeds for tests/fuzz_device.c from tests/golden/upload_streams.json.

    python3 tools/stream_seeds.py ../tests/golden/upload_streams.json tests/fuzz_corpus

One seed per golden stream in the layout of the harness's step 5 ([flags, start u16, size u16,
base size u16] + stream; flags bit 0: a base, bits 1..7: the feeding piece), and one request
script (step 2) that uploads a small golden stream through MODEL_BEGIN, MODEL_STREAM,
MODEL_DATA and MODEL_COMMIT. Standard library only.
"""

import hashlib
import json
import struct
import sys
from pathlib import Path


def main() -> None:
    source, out = sys.argv[1], Path(sys.argv[2])
    vectors = json.load(open(source))["vectors"]
    for i, v in enumerate(vectors):
        model, stream = bytes.fromhex(v["model"]), bytes.fromhex(v["stream"])
        base = bytes.fromhex(v["base"]) if v["base"] is not None else b""
        flags = (v["base"] is not None) | (i % 8) << 1  # pieces of 1, 9, 17 ... 57 bytes
        seed = struct.pack("<BHHH", flags, v["start"], len(model), len(base)) + stream
        (out / f"stream_{v['name']}.bin").write_bytes(seed)
    small = next(v for v in vectors if v["name"] == "fixed_huffman")
    model, stream = bytes.fromhex(small["model"]), bytes.fromhex(small["stream"])
    begin = struct.pack("<BI", 0, len(model)) + hashlib.sha256(model).digest() + b"\x01t\x011"
    requests = [(0x10, begin), (0x16, bytes([1, 0xFF]) + bytes(32)), (0x17, struct.pack("<I", 0) + stream), (0x12, b"\x00")]
    (out / "stream_script.bin").write_bytes(b"".join(bytes([t, len(p)]) + p for t, p in requests))


if __name__ == "__main__":
    main()
