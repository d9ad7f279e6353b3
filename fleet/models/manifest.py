"""The manifest: `<model>.json` beside `<model>.tflite`, saying what the model is.

It names and versions the model (the name and version a board reports for its active
slot), pins the model bytes by sha256, gives the output labels, and records the input and
output tensors so tools can feed and read the model without opening it. A manifest whose
sha256 does not match its model is an error: the labels would describe another model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from fleet.errors import ConfigError, ManifestMismatch, ModelError
from fleet.models.inspect import ModelInfo, TensorSpec, inspect_model

# The protocol carries name and version as at most 32 bytes of UTF-8 (MAX_NAME).
_Name = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
_Version = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9.+_-]*$")]


class TensorManifest(BaseModel):
    """An input or output tensor: shape, TFLite type name and quantization."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shape: tuple[int, ...]
    dtype: str
    scale: float = 0.0
    zero_point: int = 0

    @classmethod
    def from_spec(cls, spec: TensorSpec) -> TensorManifest:
        return cls(shape=spec.shape, dtype=spec.dtype, scale=spec.scale, zero_point=spec.zero_point)


class Manifest(BaseModel):
    """What a `.tflite` is. `generator` names the synthetic data recipe it was trained on
    (see `fleet.models.synthetic`), so virtual boards can feed it windows of each class;
    `metrics` holds figures measured when it was built (e.g. float and int8 accuracy)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: _Name
    version: _Version
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    labels: list[str] = Field(default_factory=list)
    input: TensorManifest
    output: TensorManifest
    description: str | None = None
    generator: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _labels_distinct(cls, labels: list[str]) -> list[str]:
        if any(not label.strip() for label in labels):
            raise ValueError("labels must not be empty")
        if len(set(labels)) != len(labels):
            raise ValueError("labels must be distinct")
        return labels

    @classmethod
    def describe(
        cls,
        info: ModelInfo,
        *,
        name: str,
        version: str,
        labels: list[str] | None = None,
        description: str | None = None,
        generator: str | None = None,
        metrics: dict[str, float] | None = None,
    ) -> Manifest:
        """The manifest of an inspected single-input, single-output model; checked against it."""
        if len(info.inputs) != 1 or len(info.outputs) != 1:
            raise ModelError(
                f"a manifest describes one input and one output; this model has "
                f"{len(info.inputs)} inputs and {len(info.outputs)} outputs"
            )
        try:
            manifest = cls(
                name=name,
                version=version,
                sha256=info.sha256,
                labels=labels or [],
                input=TensorManifest.from_spec(info.inputs[0]),
                output=TensorManifest.from_spec(info.outputs[0]),
                description=description,
                generator=generator,
                metrics=metrics or {},
            )
        except ValidationError as exc:
            raise ConfigError(f"invalid manifest for model {name!r}: {_explain(exc)}") from None
        check_manifest(manifest, info)
        return manifest


def manifest_path(model_path: str | Path) -> Path:
    """Where the manifest of `model_path` lives: same name, `.json` suffix."""
    return Path(model_path).with_suffix(".json")


def load_manifest(path: str | Path) -> Manifest:
    """Read and validate a manifest file; `ConfigError` naming the file and field otherwise."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read manifest: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: manifest is not valid JSON: {exc}") from None
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid manifest: {_explain(exc)}") from None


def load_manifest_for(model_path: str | Path, data: bytes | None = None) -> Manifest | None:
    """The manifest beside `model_path`, checked against the model, or None if there is none.

    `data` is the model's bytes if the caller already read them. Raises `ConfigError` for
    an invalid manifest and `ManifestMismatch` if it does not describe this model.
    """
    path = manifest_path(model_path)
    if not path.exists():
        return None
    manifest = load_manifest(path)
    if data is None:
        try:
            data = Path(model_path).read_bytes()
        except OSError as exc:
            raise ModelError(f"{model_path}: cannot read model: {exc.strerror or exc}") from None
    check_manifest(manifest, inspect_model(data, name=str(model_path)), source=str(path))
    return manifest


def write_manifest(manifest: Manifest, model_path: str | Path) -> Path:
    """Write `manifest` beside `model_path`; returns the manifest's path."""
    path = manifest_path(model_path)
    path.write_text(manifest.model_dump_json(indent=2, exclude_none=True) + "\n", encoding="utf-8")
    return path


def check_manifest(manifest: Manifest, info: ModelInfo, *, source: str = "manifest") -> None:
    """Raise `ManifestMismatch` unless `manifest` describes the model `info` was read from."""
    problems = []
    if manifest.sha256 != info.sha256:
        problems.append(f"sha256 is {manifest.sha256[:12]}…, the model's is {info.sha256[:12]}…")
    for kind, declared, actual in (("input", manifest.input, info.inputs), ("output", manifest.output, info.outputs)):
        if len(actual) != 1:
            problems.append(f"the model has {len(actual)} {kind}s, the manifest describes one")
        elif (declared.shape, declared.dtype) != (actual[0].shape, actual[0].dtype):
            problems.append(
                f"{kind} is {declared.dtype}{list(declared.shape)}, the model's is "
                f"{actual[0].dtype}{list(actual[0].shape)}"
            )
    if manifest.labels and len(info.outputs) == 1 and len(manifest.labels) != info.outputs[0].elements:
        problems.append(f"{len(manifest.labels)} labels for {info.outputs[0].elements} output values")
    if problems:
        raise ManifestMismatch(
            f"{source} does not describe model {manifest.name!r}: " + "; ".join(problems),
            hint="rebuild the manifest (fleet model convert) or restore the model it was written for",
        )


def _explain(exc: ValidationError) -> str:
    return "; ".join(
        f"field '{'.'.join(str(p) for p in err['loc']) or '(top level)'}': {err['msg']}" for err in exc.errors()
    )
