"""Write tests/golden/upload_streams.json: encoded upload streams (PROTOCOL.md section 10)
with the outcome every decoder must reach, shared by the Python and C test suites.

    python tools/make_golden_streams.py

Each vector: `model` (hex) is the model being uploaded, of which the slot already holds the
first `start` bytes; `base` (hex or null) is the model in the base slot; `stream` (hex) is
the stream from `start`. `expect` is `"model"` (the slot then holds `model`) or
`{"decode_failed_at": N}`: DECODE_FAILED with detail N, the slot holding `model[:N]`.
(The frames of MODEL_STREAM, MODEL_DATA, their acks and errors are in tests/golden/frames.json,
tools/make_golden.py, with every other message's.) Valid vectors come from the host
encoder; the rest are built by hand here. Another zlib
build may encode the valid ones to other bytes that are just as valid: the vectors check
decoders, and decoders must accept every one of them.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

from fleet.upload_codec import encode
from fleet.upload_codec.format import COPY_HEADER, DEFLATE_HEADER, BlockKind

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "golden" / "upload_streams.json"
EXAMPLES = ROOT / "fleet" / "models" / "examples"


def deflate(data: bytes, *, level: int = 9, strategy: int = zlib.Z_DEFAULT_STRATEGY, zdict: bytes = b"",
            flush_every: int = 0) -> bytes:  # fmt: skip
    """Raw deflate of `data`; `flush_every` > 0 ends a deflate block every that many bytes."""
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy, **({"zdict": zdict} if zdict else {}))
    if not flush_every:
        return c.compress(data) + c.flush()
    out = b"".join(c.compress(data[i : i + flush_every]) + c.flush(zlib.Z_FULL_FLUSH) for i in range(0, len(data), flush_every))
    return out + c.flush()


def deflate_block(data: bytes, raw: bytes | None = None, **options: object) -> bytes:
    """A DEFLATE block writing `data`; `raw` overrides its deflate bytes (the header keeps len(data))."""
    body = deflate(data, **options) if raw is None else raw  # type: ignore[arg-type]
    return DEFLATE_HEADER.pack(BlockKind.DEFLATE, len(data), len(body)) + body


def unfinished(data: bytes) -> bytes:
    """Raw deflate of `data` flushed to a byte boundary but without a final block."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)


def copy_block(length: int, src: int) -> bytes:
    return COPY_HEADER.pack(BlockKind.COPY, length, src)


def vector(name: str, comment: str, model: bytes, stream: bytes, *, start: int = 0, base: bytes | None = None,
           failed_at: int | None = None) -> dict[str, object]:  # fmt: skip
    return {
        "name": name,
        "comment": comment,
        "model": model.hex(),
        "start": start,
        "base": None if base is None else base.hex(),
        "stream": stream.hex(),
        "expect": "model" if failed_at is None else {"decode_failed_at": failed_at},
    }


def encoded(name: str, comment: str, model: bytes, *, start: int = 0, base: bytes | None = None,
            block_output: int = 1024) -> dict[str, object]:  # fmt: skip
    stream = encode(model, start, base, block_output=block_output).stream
    return vector(name, comment, model, stream, start=start, base=base)


def vectors() -> list[dict[str, object]]:
    sine = (EXAMPLES / "sine.tflite").read_bytes()
    gesture = (EXAMPLES / "gesture.tflite").read_bytes()
    # A new version of `sine`: 40 bytes inserted at 1200 (everything after moves) and 64 bytes changed at 2800.
    sine2 = bytearray(sine[:1200] + bytes(range(40)) + sine[1200:])
    sine2[2800:2864] = bytes((b * 37 + 11) & 0xFF for b in range(64))
    sine2 = bytes(sine2)
    text = b"fleet golden stream " * 40  # 800 bytes that compress well
    half = len(text) // 2
    out: list[dict[str, object]] = [
        encoded("compress_sine", "sine.tflite compressed, blocks of 1 KiB", sine),
        encoded("compress_gesture", "gesture.tflite compressed in blocks of 1 KiB: distances reach into earlier blocks", gesture),
        encoded("compress_gesture_one_block", "gesture.tflite in one block (the host's default cut)", gesture, block_output=16384),
        encoded("resume_gesture_3072", "gesture.tflite from model offset 3072, the slot holding the bytes below", gesture, start=3072),
        encoded("resume_gesture_1000", "from an offset that is no block boundary of a stream from 0 (a plain upload stopped there)", gesture, start=1000),
        encoded("delta_sine", "sine v2 over sine: COPY blocks from the base, moved by an insertion, and DEFLATE for what changed", sine2, base=sine),
        encoded("delta_resume", "sine v2 over sine, resumed at a COPY block's start", sine2, start=1240, base=sine),
        vector("stored_block", "one deflate stored block (BTYPE 00)", text, deflate_block(text, level=0)),
        vector("fixed_huffman", "one fixed-Huffman deflate block (BTYPE 01)", text, deflate_block(text, strategy=zlib.Z_FIXED)),
        vector("several_deflate_blocks", "deflate data made of 4 deflate blocks, the last final", text, deflate_block(text, flush_every=200)),
        vector("distance_into_slot", "the block's matches reach into the 400 bytes already in the slot", text,
               deflate_block(text[half:], zdict=text[:half]), start=half),
        vector("copy_to_base_end", "COPY ending exactly at the base's last byte", sine[-300:], copy_block(300, len(sine) - 300), base=sine),
        vector("empty_stream_complete", "start == size: the stream is empty and the model complete", text, b"", start=len(text)),
        # --- errors ---------------------------------------------------------------------------------
        vector("error_unknown_kind", "block kind 0x03", text, b"\x03" + struct.pack("<HH", 10, 10) + bytes(10), failed_at=0),
        vector("error_out_len_zero", "DEFLATE block with out_len 0", text, DEFLATE_HEADER.pack(1, 0, 2) + b"\x03\x00", failed_at=0),
        vector("error_past_size", "a block writing past the model's size", text, deflate_block(text + b"!"), failed_at=0),
        vector("error_in_len_zero", "DEFLATE block with in_len 0", text, DEFLATE_HEADER.pack(1, len(text), 0), failed_at=0),
        vector("error_copy_without_base", "COPY in a stream opened without a base", text[:300], copy_block(300, 0), failed_at=0),
        vector("error_copy_past_base", "COPY reading past the base's end", sine[-300:], copy_block(300, len(sine) - 299), base=sine,
               failed_at=0),
        vector("error_btype_11", "deflate block type 11", text, deflate_block(text, raw=b"\x07" + bytes(20)), failed_at=0),
        vector("error_output_long", "deflate data producing more than out_len", text[:-1], deflate_block(text[:-1], raw=deflate(text)),
               failed_at=0),
        vector("error_output_short", "deflate data producing less than out_len", text, deflate_block(text, raw=deflate(text[:-1])),
               failed_at=0),
        vector("error_trailing_data", "deflate data ending 3 bytes before in_len", text, deflate_block(text, raw=deflate(text) + b"\x00\x00\x00"),
               failed_at=0),
        vector("error_no_final_block", "deflate data that never ends (no BFINAL) within in_len", text,
               deflate_block(text, raw=unfinished(text)),
               failed_at=0),
        vector("error_distance_before_slot", "a match reaching below model offset 0 (the encoder had a dictionary the slot lacks)", text[half:],
               deflate_block(text[half:], zdict=text[:half]), failed_at=0),
        vector("error_stored_nlen", "stored block whose NLEN is not LEN's complement", text[:10],
               deflate_block(text[:10], raw=b"\x01" + struct.pack("<HH", 10, 0x1234) + text[:10]), failed_at=0),
        vector("error_after_last_block", "a byte after the block that completes the model", text, deflate_block(text) + b"\x01",
               failed_at=len(text)),
        vector("error_second_block", "the first block decodes, the second is corrupt: the slot keeps the first", text,
               deflate_block(text[:300]) + b"\x09", failed_at=300),
    ]
    return out


def main() -> None:
    document = {
        "comment": "Encoded upload streams (firmware/PROTOCOL.md section 10); written by tools/make_golden_streams.py",
        "vectors": vectors(),
    }
    OUT.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(document['vectors'])} vectors to {OUT}")


if __name__ == "__main__":
    main()
