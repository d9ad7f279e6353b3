"""The Python decoder against tests/golden/upload_streams.json (the C decoder runs the same file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleet.errors import StreamDecodeError
from fleet.upload_codec import StreamDecoder

VECTORS = json.loads((Path(__file__).resolve().parents[1] / "golden" / "upload_streams.json").read_text())["vectors"]


def _run(vector: dict, cut: int) -> tuple[bytes, StreamDecodeError | None]:
    model = bytes.fromhex(vector["model"])
    start = vector["start"]
    base = None if vector["base"] is None else bytes.fromhex(vector["base"])
    stream = bytes.fromhex(vector["stream"])
    slot = bytearray(model[:start])

    def write(offset: int, data: bytes) -> None:
        assert offset == len(slot)
        slot.extend(data)

    decoder = StreamDecoder(start, len(model), model[:start], write, base)
    try:
        for i in range(0, len(stream), cut):
            decoder.feed(stream[i : i + cut])
    except StreamDecodeError as exc:
        assert decoder.received == len(slot)
        return bytes(slot), exc
    return bytes(slot), None


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
@pytest.mark.parametrize("cut", [1, 7, 1 << 20], ids=["bytewise", "cut7", "whole"])
def test_vector(vector: dict, cut: int) -> None:
    model = bytes.fromhex(vector["model"])
    slot, error = _run(vector, cut)
    if vector["expect"] == "model":
        assert error is None, error
        assert slot == model
    else:
        failed_at = vector["expect"]["decode_failed_at"]
        assert error is not None, "the stream decoded without error"
        assert error.block_start == failed_at
        assert slot == model[:failed_at]


def test_vectors_cover_every_block_kind_and_deflate_type() -> None:
    names = {v["name"] for v in VECTORS}
    assert {"stored_block", "fixed_huffman", "several_deflate_blocks", "delta_sine", "error_second_block"} <= names
