"""How one upload goes on the wire: plain chunks, a compressed stream, or a delta against
the model in the board's other slot (PROTOCOL.md section 10.1), and the encodings, shared by
every board of a rollout.

Encoding runs in a worker thread (zlib releases the GIL), once per (model, base, start): 32
boards getting the same model from the same base wait for one encoding, not 32.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from fleet.deploy.model_cache import ModelCache
from fleet.protocol import Capability, Info, SlotState
from fleet.upload_codec import EncodedModel, encode

Encoding = Literal["plain", "deflate", "delta"]
_BASE_STATES = (SlotState.VALID, SlotState.PENDING, SlotState.ACTIVE)
_KEEP = 8  # encodings kept: a rollout needs one per base and resume point


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """The encoding of one upload; `base_slot`/`base_sha256`/`base` are set for a delta."""

    encoding: Encoding
    base_slot: int | None = None
    base_sha256: bytes | None = None
    base: bytes | None = None

    def without_base(self) -> StreamPlan:
        return StreamPlan("deflate")


PLAIN = StreamPlan("plain")


def plan_upload(info: Info, target_slot: int, *, compress: bool, bases: ModelCache | None) -> StreamPlan:
    """What this board gets: a delta when it can take one and we hold its other slot's model,
    else compression when it decodes it, else plain chunks."""
    if not compress or not info.capabilities & Capability.DEFLATE:
        return PLAIN
    if info.capabilities & Capability.DELTA and bases is not None:
        for index, slot in enumerate(info.slots):
            if index == target_slot or slot.state not in _BASE_STATES:
                continue
            base = bases.get(slot.sha256)
            if base is not None:
                return StreamPlan("delta", index, slot.sha256, base)
    return StreamPlan("deflate")


class EncodingCache:
    """Encodings by (model sha256, base sha256, start), computed once each, off the event loop."""

    def __init__(self) -> None:
        self._done: OrderedDict[tuple[bytes, bytes | None, int], EncodedModel] = OrderedDict()
        self._locks: dict[tuple[bytes, bytes | None, int], threading.Lock] = {}
        self._guard = threading.Lock()

    async def get(self, model: bytes, sha256: bytes, start: int, plan: StreamPlan) -> EncodedModel:
        return await asyncio.to_thread(self._get, model, sha256, start, plan)

    def _get(self, model: bytes, sha256: bytes, start: int, plan: StreamPlan) -> EncodedModel:
        key = (sha256, plan.base_sha256, start)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            found = self._lookup(key)
            if found is None:
                found = encode(model, start, plan.base, plan.base_sha256)
                with self._guard:
                    self._done[key] = found
                    while len(self._done) > _KEEP:
                        self._done.popitem(last=False)
                    self._locks.pop(key, None)
            return found

    def _lookup(self, key: tuple[bytes, bytes | None, int]) -> EncodedModel | None:
        """The encoding for `key`, or the tail of the one from offset 0 when a block starts
        there (a resume at a block end of the stream that was being sent)."""
        with self._guard:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
            whole = self._done.get((key[0], key[1], 0))
        return whole.tail(key[2]) if whole is not None else None


ENCODINGS = EncodingCache()
"""The process's encodings: a rollout's boards, and a deploy that resumes, share them."""
