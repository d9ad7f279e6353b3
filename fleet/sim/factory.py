"""Building virtual boards: identity, flash store, engine, and factory-programmed models."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from fleet.errors import ModelError
from fleet.profiles import Profile, get_profile
from fleet.protocol import MAX_NAME, SlotState
from fleet.sim.clock import Clock, MonotonicClock
from fleet.sim.engine import BoardConfig, BoardEngine
from fleet.sim.loader import ModelLoader
from fleet.sim.refusal import Refusal
from fleet.sim.slots import SlotStore

UID_BYTES = 8


def derive_uid(name: str) -> bytes:
    """A stable 8-byte uid for a board called `name` (same name, same uid)."""
    return hashlib.sha256(f"fleet-sim:{name}".encode()).digest()[:UID_BYTES]


def make_engine(
    profile: Profile | str,
    state_dir: Path,
    *,
    name: str | None = None,
    uid: bytes | None = None,
    clock: Clock | None = None,
    seed: int = 0,
    max_lag_us: int | None = None,
    **config: object,
) -> BoardEngine:
    """An engine whose flash lives in `state_dir`.

    The uid is, in order: the one stored in `state_dir` (a chip's id never changes),
    `uid`, one derived from `name`, or random. Extra keyword arguments go to `BoardConfig`
    (max_payload, rx_window, firmware_version).
    """
    if isinstance(profile, str):
        profile = get_profile(profile)
    store = SlotStore(state_dir)
    if store.uid is None:
        store.uid = uid or (derive_uid(name) if name is not None else os.urandom(UID_BYTES))
        store.save()
    board = BoardConfig(profile, store.uid, seed=seed, max_lag_us=max_lag_us, **config)  # type: ignore[arg-type]
    return BoardEngine(board, store, clock or MonotonicClock(), ModelLoader(profile, seed=seed))


def program_model(engine: BoardEngine, data: bytes, *, name: str = "", version: str = "", slot: int = 0) -> None:
    """Flash `data` into `slot` as the ACTIVE model before the board boots (like a debugger would).

    Runs the same test-load as COMMIT, so a model this board could not run is refused
    with `ModelError`. A slot already holding this model as ACTIVE is left alone.
    """
    store = engine.store
    digest = hashlib.sha256(data).digest()
    current = store.slots[slot]
    if current.state is SlotState.ACTIVE and current.sha256 == digest:
        return
    try:
        model = engine.loader.check(data)
    except Refusal as refusal:
        raise ModelError(f"{engine.profile.name} cannot run this model: {refusal.code.name} {refusal.text}") from None
    store.program(slot, data, _str8(name), _str8(version), model.arena_used)


def _str8(text: str) -> str:
    """At most 32 bytes of UTF-8, cut at a character boundary (the str8 limit)."""
    return text.encode("utf-8")[:MAX_NAME].decode("utf-8", errors="ignore")
