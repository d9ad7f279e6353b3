"""Does a model fit a board? Model slot size, tensor arena and operator support.

The deploy pre-flight refuses a model whose report is not `ok`, and `fleet model inspect`
prints one report per board profile.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleet.models.inspect import ModelInfo
from fleet.profiles import Profile


@dataclass(frozen=True, slots=True)
class FitCheck:
    """One limit: `needed` against `limit` (bytes, or counts of operators for "ops")."""

    name: str  # "slot", "arena" or "ops"
    ok: bool
    needed: int
    limit: int
    message: str


@dataclass(frozen=True, slots=True)
class FitReport:
    """The three checks of one model on one board profile."""

    board: str
    title: str
    slot: FitCheck
    arena: FitCheck
    ops: FitCheck
    unsupported_ops: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.slot.ok and self.arena.ok and self.ops.ok

    @property
    def checks(self) -> tuple[FitCheck, FitCheck, FitCheck]:
        return (self.slot, self.arena, self.ops)

    @property
    def message(self) -> str:
        """One line for people: what fits, or every limit that does not."""
        if self.ok:
            return f"fits {self.title} ({self.board}): {self.slot.message}; {self.arena.message}; {self.ops.message}"
        failed = "; ".join(check.message for check in self.checks if not check.ok)
        return f"does not fit {self.title} ({self.board}): {failed}"


def check_fit(info: ModelInfo, arena_needed: int, profile: Profile) -> FitReport:
    """Check `info` (with its measured arena, see `fleet.models.arena`) against `profile`."""
    slot_ok = info.size <= profile.slot_bytes
    slot = FitCheck(
        "slot",
        slot_ok,
        info.size,
        profile.slot_bytes,
        f"model {info.size} B {'fits' if slot_ok else 'exceeds'} the {profile.slot_bytes} B model slot",
    )
    arena_ok = arena_needed <= profile.arena_bytes
    arena = FitCheck(
        "arena",
        arena_ok,
        arena_needed,
        profile.arena_bytes,
        f"arena {arena_needed} B {'fits' if arena_ok else 'exceeds'} the {profile.arena_bytes} B tensor arena",
    )
    unsupported = tuple(op for op in info.ops if not profile.supports(op))
    ops = FitCheck(
        "ops",
        not unsupported,
        len(unsupported),
        0,
        f"all {len(info.ops)} operator types supported"
        if not unsupported
        else f"unsupported operators: {', '.join(unsupported)}",
    )
    return FitReport(profile.name, profile.title, slot, arena, ops, unsupported)
