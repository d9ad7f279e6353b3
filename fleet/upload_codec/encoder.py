"""Host encoder: a model (or the part of it from a resume offset) as a block stream.

Compression is zlib's raw deflate at level 9, one compressor per block of at most
`MAX_BLOCK_OUTPUT` bytes, primed with the 32 KiB of model below the block: exactly the
window the board has in its slot, so blocks lose nothing against one long stream while each
one stays decodable from the slot alone (that is what makes resume at any block boundary
work). A delta replaces the ranges the matcher found in the base by COPY blocks.
"""

from __future__ import annotations

import zlib
from bisect import bisect_left
from dataclasses import dataclass

from fleet.upload_codec.format import COPY_HEADER, DEFLATE_HEADER, MAX_BLOCK_OUTPUT, MAX_FIELD, WINDOW, BlockKind
from fleet.upload_codec.matcher import Copy, find_copies

LEVEL = 9
MEM_LEVEL = 9


@dataclass(frozen=True, slots=True)
class EncodedModel:
    """A block stream for model bytes [start, size), with where each block starts.

    `block_starts[i]` is block i's model offset and `stream_offsets[i]` where its bytes
    begin in `stream`; both are sorted, so a resume point is found by bisection.
    """

    stream: bytes
    start: int
    size: int
    block_starts: tuple[int, ...]
    stream_offsets: tuple[int, ...]
    kinds: tuple[BlockKind, ...]
    base_sha256: bytes | None = None

    def tail(self, model_offset: int) -> EncodedModel | None:
        """The same stream from the block that starts at `model_offset`, or None when no
        block starts there (the caller then encodes afresh from that offset)."""
        i = bisect_left(self.block_starts, model_offset)
        if i == len(self.block_starts) or self.block_starts[i] != model_offset:
            return None
        cut = self.stream_offsets[i]
        return EncodedModel(
            self.stream[cut:], model_offset, self.size, self.block_starts[i:],
            tuple(o - cut for o in self.stream_offsets[i:]), self.kinds[i:], self.base_sha256,
        )  # fmt: skip

    def model_end_below(self, stream_offset: int) -> int:
        """The model offset reached once the board holds every stream byte below
        `stream_offset`: the end of the last block wholly below it (what DATA_ACK's
        `received` must then be)."""
        ends = self.stream_offsets[1:] + (len(self.stream),)
        i = bisect_left(ends, stream_offset + 1) - 1
        if i < 0:
            return self.start
        return self.block_starts[i + 1] if i + 1 < len(self.block_starts) else self.size


def encode(model: bytes, start: int = 0, base: bytes | None = None, base_sha256: bytes | None = None, *,
           block_output: int = MAX_BLOCK_OUTPUT) -> EncodedModel:  # fmt: skip
    """Encode `model[start:]`; with `base`, ranges it shares with `base` become COPY blocks.

    `block_output` caps the model bytes per block (the golden vectors use small blocks to
    exercise block boundaries on small models)."""
    if not 0 <= start <= len(model):
        raise ValueError(f"start {start} is outside the model's {len(model)} bytes")
    if not 0 < block_output <= MAX_FIELD:
        raise ValueError(f"block_output {block_output} is outside 1..{MAX_FIELD}")
    copies = find_copies(model, base, start) if base is not None else []
    parts: list[bytes] = []
    starts: list[int] = []
    offsets: list[int] = []
    kinds: list[BlockKind] = []
    written = 0

    def emit(kind: BlockKind, at: int, data: bytes) -> None:
        nonlocal written
        starts.append(at)
        offsets.append(written)
        kinds.append(kind)
        parts.append(data)
        written += len(data)

    pos = start
    for copy in [*copies, Copy(len(model), 0, 0)]:
        for at in range(pos, copy.target, block_output):
            emit(BlockKind.DEFLATE, at, _deflate_block(model, at, min(at + block_output, copy.target)))
        for done in range(0, copy.length, block_output):
            n = min(block_output, copy.length - done)
            emit(BlockKind.COPY, copy.target + done, COPY_HEADER.pack(BlockKind.COPY, n, copy.source + done))
        pos = copy.target + copy.length
    return EncodedModel(b"".join(parts), start, len(model), tuple(starts), tuple(offsets), tuple(kinds),
                        base_sha256 if base is not None else None)  # fmt: skip


def _deflate_block(model: bytes, begin: int, end: int) -> bytes:
    history = model[max(0, begin - WINDOW) : begin]
    options = {"zdict": history} if history else {}
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15, MEM_LEVEL, zlib.Z_DEFAULT_STRATEGY, **options)
    data = compressor.compress(model[begin:end]) + compressor.flush()
    return DEFLATE_HEADER.pack(BlockKind.DEFLATE, end - begin, len(data)) + data
