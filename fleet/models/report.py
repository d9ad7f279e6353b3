"""JSON shapes of `fleet model ... --json`: pydantic models built from the toolkit's dataclasses.

They are the stable edge for scripts and CI; field names follow the dataclasses they copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from fleet.models.fit import FitCheck, FitReport
from fleet.models.inspect import ModelInfo, TensorSpec
from fleet.models.manifest import Manifest

if TYPE_CHECKING:  # parity needs numpy; `fleet model inspect` must run on the base install without it
    from fleet.models.parity import ParityResult


class _Report(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TensorReport(_Report):
    name: str
    shape: list[int]
    dtype: str
    type_code: int
    scale: float
    zero_point: int

    @classmethod
    def of(cls, spec: TensorSpec) -> TensorReport:
        return cls(
            name=spec.name,
            shape=list(spec.shape),
            dtype=spec.dtype,
            type_code=spec.type_code,
            scale=spec.scale,
            zero_point=spec.zero_point,
        )


class CheckReport(_Report):
    ok: bool
    needed: int
    limit: int
    message: str

    @classmethod
    def of(cls, check: FitCheck) -> CheckReport:
        return cls(ok=check.ok, needed=check.needed, limit=check.limit, message=check.message)


class FitReportModel(_Report):
    board: str
    title: str
    ok: bool
    message: str
    slot: CheckReport
    arena: CheckReport
    ops: CheckReport
    unsupported_ops: list[str]

    @classmethod
    def of(cls, fit: FitReport) -> FitReportModel:
        return cls(
            board=fit.board,
            title=fit.title,
            ok=fit.ok,
            message=fit.message,
            slot=CheckReport.of(fit.slot),
            arena=CheckReport.of(fit.arena),
            ops=CheckReport.of(fit.ops),
            unsupported_ops=list(fit.unsupported_ops),
        )


class InspectReport(_Report):
    """`fleet model inspect --json`. `arena_bytes` is None when it could not be measured
    (`arena_error` says why); `fits` is then empty."""

    file: str
    size: int
    sha256: str
    ops: dict[str, int]
    inputs: list[TensorReport]
    outputs: list[TensorReport]
    macs: int
    subgraphs: int
    arena_bytes: int | None
    arena_error: str | None
    manifest: Manifest | None
    fits: list[FitReportModel]

    @classmethod
    def of(
        cls,
        file: str,
        info: ModelInfo,
        arena: int | None,
        arena_error: str | None,
        manifest: Manifest | None,
        fits: list[FitReport],
    ) -> InspectReport:
        return cls(
            file=file,
            size=info.size,
            sha256=info.sha256,
            ops=info.ops,
            inputs=[TensorReport.of(t) for t in info.inputs],
            outputs=[TensorReport.of(t) for t in info.outputs],
            macs=info.macs,
            subgraphs=info.subgraphs,
            arena_bytes=arena,
            arena_error=arena_error,
            manifest=manifest,
            fits=[FitReportModel.of(f) for f in fits],
        )


class ParityEntry(_Report):
    """One model's parity; `error` (and no figures) when a interpreter could not run it."""

    file: str
    sha256: str | None = None
    max_abs_diff: float | None = None
    unit: str | None = None  # "LSB" for integer outputs, "value" for float outputs
    differing_inputs: int | None = None
    error: str | None = None

    @classmethod
    def of(cls, file: str, result: ParityResult) -> ParityEntry:
        return cls(
            file=file,
            sha256=result.sha256,
            max_abs_diff=result.max_abs_diff,
            unit="LSB" if result.integer_output else "value",
            differing_inputs=result.differing_inputs,
        )


class ParityReport(_Report):
    """`fleet model parity --json`: TFLM against LiteRT BUILTIN_REF, `inputs` inputs per model."""

    reference: str = "ai-edge-litert BUILTIN_REF"
    inputs: int
    seed: int
    models: list[ParityEntry]


class BuildReport(_Report):
    """`fleet model build --json` and `fleet model convert --json`."""

    model: str
    manifest_file: str
    manifest: Manifest
    seconds: float
