"""Find the ranges a new model shares with a base model (for COPY blocks).

A `.tflite` is a flatbuffer: a new version keeps most tensors' bytes as they were, though a
change in size of anything before them (a longer description, a resized tensor) moves them.
So the matcher is general rather than tensor-aware: it indexes the base at every `STEP`-th
offset by its next `KEY` bytes, walks the new model, and grows every hit forwards (and back
over what the walk skipped) as far as the bytes agree. A tensor that did not change, wherever
it moved, is found whole; so is the flatbuffer metadata around it where it is unchanged.
Before each dictionary lookup the walk tries the base offset the previous copy predicts (the
same shift), which finds the continuation of a moved region without hashing.
"""

from __future__ import annotations

from dataclasses import dataclass

KEY = 32  # bytes a hit must share before it is grown
STEP = 16  # index stride in the base: any common run of KEY + STEP bytes is found
MIN_COPY = 128  # shorter matches cost more as a COPY block plus a new deflate block than they save


@dataclass(frozen=True, slots=True)
class Copy:
    """`length` bytes of the new model at `target` equal the base's at `source`."""

    target: int
    source: int
    length: int


def find_copies(new: bytes, base: bytes, start: int = 0) -> list[Copy]:
    """Non-overlapping copies covering what `new[start:]` shares with `base`, in target order."""
    if len(base) < KEY or len(new) - start < KEY:
        return []
    index: dict[bytes, int] = {}
    for offset in range(len(base) - KEY, -1, -STEP):  # backwards: the lowest offset wins a key
        index[base[offset : offset + KEY]] = offset
    copies: list[Copy] = []
    pos = start
    done = start  # everything below is covered by a copy or left to deflate
    shift = 0
    last = len(new) - KEY
    while pos <= last:
        key = new[pos : pos + KEY]
        predicted = pos + shift
        if 0 <= predicted <= len(base) - KEY and base[predicted : predicted + KEY] == key:
            source = predicted
        else:
            source = index.get(key, -1)
            if source < 0:
                pos += 1
                continue
        back = _common_suffix(new, pos, base, source, pos - done)
        target, source = pos - back, source - back
        length = back + _common_prefix(new, pos, base, source + back)
        if length >= MIN_COPY:
            copies.append(Copy(target, source, length))
            shift = source - target
            done = pos = target + length
        else:
            pos += 1
    return copies


def _common_prefix(a: bytes, i: int, b: bytes, j: int) -> int:
    """How many bytes a[i:] and b[j:] share at their start (doubling probes, then bisection)."""
    limit = min(len(a) - i, len(b) - j)
    good, probe = 0, 64
    while probe <= limit and a[i + good : i + probe] == b[j + good : j + probe]:
        good, probe = probe, probe * 2
    high = min(probe, limit)
    while good < high:  # invariant: the first `good` bytes agree, the first `high + 1` do not (or limit)
        mid = (good + high + 1) // 2
        if a[i + good : i + mid] == b[j + good : j + mid]:
            good = mid
        else:
            high = mid - 1
    return good


def _common_suffix(a: bytes, i: int, b: bytes, j: int, limit: int) -> int:
    """How many bytes just below a[i] and b[j] agree, at most `limit`."""
    n = 0
    limit = min(limit, i, j)
    while n < limit and a[i - n - 1] == b[j - n - 1]:
        n += 1
    return n
