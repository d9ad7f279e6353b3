"""Pre-flight: decide, before a single byte is sent, whether a model can run on a board.

The board's own INFO gives its slot and arena sizes; its profile (by board kind) gives the
operators its firmware has. A board of a kind fleet has no profile for skips the operator
check here: its COMMIT test-load still refuses unsupported operators.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fleet.deploy.model_file import ModelFile
from fleet.models.fit import FitReport, check_fit
from fleet.profiles import Profile, load_profiles
from fleet.protocol import Info, SlotState


@dataclass(frozen=True, slots=True)
class Preflight:
    """The verdict for one board: `ok`, or the reasons it is refused; `same_model` if it already
    runs it, confirmed; `on_trial` if it runs it in test (PENDING): an interrupted deploy
    activated it and never confirmed it, so after a reset the board would boot its old model."""

    board: str
    ok: bool
    same_model: bool
    reasons: tuple[str, ...]
    report: FitReport
    on_trial: bool = False

    @property
    def message(self) -> str:
        if self.same_model:
            return f"{self.board}: already runs this model"
        if self.ok:
            return f"{self.board}: {self.report.message}"
        return f"{self.board}: refused: {'; '.join(self.reasons)}"


def board_profile(info: Info, model_ops: Iterable[str] = ()) -> Profile:
    """The board's profile with the sizes the board itself declares.

    A kind without a profile is taken to support `model_ops` (its test-load decides).
    """
    known = load_profiles().get(info.board_kind)
    if known is not None:
        return known.model_copy(update={"arena_bytes": info.arena_bytes, "slot_bytes": info.slot_bytes})
    return Profile(
        name=info.board_kind or "unknown", title=f"board kind {info.board_kind!r}", mcu="unknown",
        cpu_hz=max(info.cpu_hz, 1), flash_bytes=max(info.slot_bytes, 1), ram_bytes=max(info.arena_bytes, 1),
        arena_bytes=max(info.arena_bytes, 1), slot_bytes=max(info.slot_bytes, 1), macs_per_cycle=1.0, idle_mw=0,
        active_mw=0, voltage_mv=3300, ops=frozenset(model_ops),
    )  # fmt: skip


def preflight(model: ModelFile, info: Info, board: str) -> Preflight:
    """Check `model` against the board described by `info`, named `board` in messages."""
    active = info.active
    runs_it = active is not None and active.sha256 == model.sha256
    confirmed = runs_it and active is not None and active.state == SlotState.ACTIVE
    report = check_fit(model.info, model.arena_bytes, board_profile(info, model.info.ops))
    reasons = tuple(check.message for check in report.checks if not check.ok)
    return Preflight(board, report.ok, confirmed, reasons, report, on_trial=runs_it and not confirmed)
