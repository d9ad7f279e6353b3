"""Deploy events: what `fleet deploy --json` prints, one per line, and what the TUI shows.

One model with optional fields, so consumers switch on `event` and read what they need.
"""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, Field

EventKind = Literal[
    "plan", "preflight", "progress", "verified", "activated", "confirmed", "rolled_back", "failed", "skipped",
    "refused", "stopped", "busy", "unreachable", "unknown", "done",
]  # fmt: skip
Phase = Literal[
    "connecting", "preflight", "uploading", "reconnecting", "verifying", "activating", "health", "confirming",
    "rolling_back", "done",
]  # fmt: skip


class DeployEvent(BaseModel):
    """One step of a deploy. `board` is absent only for whole-rollout events (plan, done)."""

    event: EventKind
    time: float = Field(default_factory=time.time)
    board: str | None = None
    uid: str | None = None
    port: str | None = None
    phase: Phase | None = None
    model: str | None = None
    version: str | None = None
    sha256: str | None = None
    slot: int | None = None
    bytes: int | None = None
    total: int | None = None
    rate: float | None = None  # model bytes/s (the effective rate: more than the line's when encoded)
    wire_bytes: int | None = None  # uploading: data bytes the board acknowledged on the wire (encoded or plain)
    wire_rate: float | None = None  # wire bytes/s
    encoding: str | None = None  # uploading: plain, deflate or delta
    eta: float | None = None  # seconds
    retransmits: int | None = None
    arena_used: int | None = None
    inferences: int | None = None
    latency_us: int | None = None
    reason: str | None = None
    boards: list[str] | None = None  # plan: every target, in order
    strategy: str | None = None
    summary: dict[str, int] | None = None  # done: outcomes counted

    def line(self) -> str:
        return self.model_dump_json(exclude_none=True)
