"""The serial line between host and board: its speed and its noise.

`LinePacer` says when bytes finish crossing a line of a given baud (8N1: baud/10 bytes/s);
the runner uses it in both directions to schedule timers per batch of bytes, never one
sleep per byte. `LineNoise` flips bits at a bit error rate and drops bytes, from a seeded
`random.Random`, so a run with the same seed corrupts the same bytes. Error positions are
drawn as geometric gaps, so clean bytes cost nothing.
"""

from __future__ import annotations

import math
import random
import sys


class LinePacer:
    """Serialises bytes onto a line of `baud` (None: infinitely fast)."""

    def __init__(self, baud: int | None) -> None:
        self.bytes_per_s = baud / 10 if baud else math.inf  # start + 8 data + stop bits
        self._free_at = 0.0

    def finish(self, nbytes: int, start: float) -> float:
        """Queue `nbytes` no earlier than `start` (seconds); when their last byte has crossed."""
        begin = max(start, self._free_at)
        self._free_at = begin + nbytes / self.bytes_per_s
        return self._free_at

    def backlog(self, now: float) -> int:
        """Bytes queued but not yet sent at `now`."""
        if math.isinf(self.bytes_per_s):
            return 0
        return max(0, math.ceil((self._free_at - now) * self.bytes_per_s))

    def drained_at(self, nbytes: int) -> float:
        """When the backlog will be down to `nbytes`."""
        return self._free_at - (0 if math.isinf(self.bytes_per_s) else nbytes / self.bytes_per_s)

    def reset(self) -> None:
        self._free_at = 0.0


class LineNoise:
    """Seeded bit errors (probability `ber` per bit) and byte drops (`drop` per byte)."""

    def __init__(self, ber: float, drop: float, rng: random.Random) -> None:
        self.ber = ber
        self.drop = drop
        # One generator per kind of fault, so where errors fall does not depend on how the
        # byte stream happens to be split into reads.
        self._bit_rng = random.Random(rng.random())
        self._drop_rng = random.Random(rng.random())
        self._bits_to_error = self._gap(ber, self._bit_rng)
        self._bytes_to_drop = self._gap(drop, self._drop_rng)
        self.flipped = 0
        self.dropped = 0

    def apply(self, data: bytes) -> bytes:
        """The bytes as they arrive at the other end."""
        if not self.ber and not self.drop:
            return data
        out = bytearray(data)
        if self.ber:
            bit = self._bits_to_error
            while bit < 8 * len(out):
                out[bit // 8] ^= 1 << (bit % 8)
                self.flipped += 1
                bit += 1 + self._gap(self.ber, self._bit_rng)
            self._bits_to_error = bit - 8 * len(out)
        if self.drop:
            keep = bytearray()
            pos, start = self._bytes_to_drop, 0
            while pos < len(out):
                keep += out[start:pos]
                self.dropped += 1
                start = pos + 1
                pos = start + self._gap(self.drop, self._drop_rng)
            keep += out[start:]
            self._bytes_to_drop = pos - len(out)
            out = keep
        return bytes(out)

    @staticmethod
    def _gap(p: float, rng: random.Random) -> int:
        """Clean units before the next event, for an event probability `p` per unit."""
        if p <= 0:
            return sys.maxsize
        return int(math.log(1.0 - rng.random()) / math.log(1.0 - p))
