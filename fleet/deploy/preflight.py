"""Pre-flight: decide, before a single byte is sent, whether a model can run on a board.

The board's own INFO gives its slot and arena sizes. Its operators come from the best
source there is:

1. the board's RUNTIME answer (boards that declare `Capability.RUNTIME`): what its
   runtime really has, so it wins over any profile;
2. else the profile of its board kind (fleet/profiles.toml);
3. else nothing: the operator check is not possible, and the verdict says so (the
   board's COMMIT test-load still refuses an unsupported operator, after the upload).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from fleet.client import BoardClient
from fleet.deploy.model_file import ModelFile
from fleet.models.fit import FitCheck, FitReport, check_fit
from fleet.models.inspect import builtin_name
from fleet.profiles import Profile, load_profiles
from fleet.protocol import Capability, Info, RuntimeInfo, SlotState


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


def runtime_operators(runtime: RuntimeInfo) -> frozenset[str]:
    """The operator names a RUNTIME answer covers, spelled as model inspection spells them."""
    return frozenset(builtin_name(code) for code in runtime.builtins) | frozenset(runtime.customs)


def board_profile(info: Info) -> Profile:
    """The board's profile with the sizes the board itself declares; for a kind without a
    profile, a stand-in built from INFO alone (its `ops` are empty: nobody knows them)."""
    known = load_profiles().get(info.board_kind)
    if known is not None:
        return known.model_copy(update={"arena_bytes": info.arena_bytes, "slot_bytes": info.slot_bytes})
    return Profile(
        name=info.board_kind or "unknown", title=f"board kind {info.board_kind!r}", mcu="unknown",
        cpu_hz=max(info.cpu_hz, 1), flash_bytes=max(info.slot_bytes, 1), ram_bytes=max(info.arena_bytes, 1),
        arena_bytes=max(info.arena_bytes, 1), slot_bytes=max(info.slot_bytes, 1), macs_per_cycle=1.0, idle_mw=0,
        active_mw=0, voltage_mv=3300, ops=frozenset(),
    )  # fmt: skip


def preflight(model: ModelFile, info: Info, board: str, runtime: RuntimeInfo | None = None) -> Preflight:
    """Check `model` against the board described by `info` (and its RUNTIME answer, if
    read), named `board` in messages."""
    active = info.active
    runs_it = active is not None and active.sha256 == model.sha256
    confirmed = runs_it and active is not None and active.state == SlotState.ACTIVE
    profile = board_profile(info)
    report = check_fit(model.info, model.arena_bytes, profile)
    if runtime is not None:
        report = _with_ops(report, _runtime_check(model, runtime, board))
    elif info.board_kind not in load_profiles():
        report = _with_ops(report, _unchecked(info))
    reasons = tuple(check.message for check in report.checks if not check.ok)
    return Preflight(board, report.ok, confirmed, reasons, report, on_trial=runs_it and not confirmed)


async def preflight_board(model: ModelFile, client: BoardClient, board: str, info: Info | None = None) -> Preflight:
    """`preflight` for a connected board: asks it RUNTIME (if it declares the capability)
    unless it already runs the model, in which case nothing but HELLO was needed."""
    info = info or client.info
    assert info is not None, "connect (HELLO) before pre-flight"
    active = info.active
    runs_it = active is not None and active.sha256 == model.sha256
    return preflight(model, info, board, None if runs_it else await client.runtime())


def _runtime_check(model: ModelFile, runtime: RuntimeInfo, board: str) -> tuple[FitCheck, tuple[str, ...]]:
    has = runtime_operators(runtime)
    missing = tuple(op for op in model.info.ops if op not in has)
    label = runtime.runtime or "unnamed runtime"
    if missing:
        text = f"board {board} ({label}) cannot run {', '.join(missing)} (unsupported operators)"
    else:
        text = f"all {len(model.info.ops)} operator types in the board's runtime ({label})"
    return FitCheck("ops", not missing, len(missing), 0, text), missing


def _unchecked(info: Info) -> tuple[FitCheck, tuple[str, ...]]:
    why = (
        "the board's RUNTIME list was not read" if info.capabilities & Capability.RUNTIME
        else "the board does not declare RUNTIME"
    )  # fmt: skip
    text = (f"operators NOT checked: no profile for board kind {info.board_kind!r} and {why}; "
            "the board's test-load at COMMIT decides, after the upload")  # fmt: skip
    return FitCheck("ops", True, 0, 0, text), ()


def _with_ops(report: FitReport, check: tuple[FitCheck, tuple[str, ...]]) -> FitReport:
    ops, unsupported = check
    return dataclasses.replace(report, ops=ops, unsupported_ops=unsupported)
