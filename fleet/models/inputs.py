"""Deterministic input streams for any model: what virtual boards and parity runs feed TFLM.

`input_stream` picks, in order:

1. the synthetic generator the model was built with (`Manifest.generator`, from the
   manifest passed in or from a bundled example with the same sha256): windows of each
   class in turn, so a classifier's live label changes;
2. for a model with a single input value (the sine hello_world): x swept over [0, 2π);
3. for anything else: seeded patterns spanning the input's range — alternately uniform
   noise and smooth sinusoidal ramps — in real units, then quantized.

Float samples become the input tensor's type with its scale and zero point,
q = clip(round(x / scale) + zero_point); inputs without quantization get the values cast.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from fleet.errors import ModelError
from fleet.models.bundled import find_bundled_manifest
from fleet.models.inspect import ModelInfo, TensorSpec
from fleet.models.manifest import Manifest
from fleet.models.synthetic import STREAMS, sine_sweep

NUMPY_TYPES: dict[str, type[np.generic]] = {
    "int8": np.int8,
    "uint8": np.uint8,
    "int16": np.int16,
    "uint16": np.uint16,
    "int32": np.int32,
    "uint32": np.uint32,
    "int64": np.int64,
    "float16": np.float16,
    "float32": np.float32,
    "float64": np.float64,
    "bool": np.bool_,
}


def numpy_dtype(spec: TensorSpec) -> np.dtype:
    """The numpy dtype of a tensor; `ModelError` for types numpy cannot hold (int4, strings)."""
    try:
        return np.dtype(NUMPY_TYPES[spec.dtype])
    except KeyError:
        raise ModelError(f"tensor {spec.name!r} has type {spec.dtype}, which fleet cannot generate inputs for") from None


def quantize(values: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """Real values -> the tensor's type, shaped like the tensor."""
    dtype = numpy_dtype(spec)
    values = np.asarray(values, dtype=np.float64).reshape(spec.shape)
    if spec.quantized:
        values = np.round(values / spec.scale) + spec.zero_point
    if np.issubdtype(dtype, np.integer):
        limits = np.iinfo(dtype)
        values = np.clip(np.round(values), limits.min, limits.max)
    return values.astype(dtype)


def input_stream(info: ModelInfo, seed: int, manifest: Manifest | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Endless `(input_id, array)` pairs for a single-input model; same seed, same stream.

    `input_id` counts from 0. Each array has the input's shape and dtype, ready for
    `TflmRunner.run`.
    """
    if len(info.inputs) != 1:
        raise ModelError(f"synthetic inputs are generated for single-input models; this one has {len(info.inputs)}")
    spec = info.inputs[0]
    numpy_dtype(spec)  # fail now, not at the first next()
    rng = np.random.default_rng(seed)
    manifest = manifest or find_bundled_manifest(info.sha256)
    generator = manifest.generator if manifest else None
    if generator in STREAMS:
        samples = STREAMS[generator](rng)
    elif spec.elements == 1:
        samples = sine_sweep(rng)
    else:
        samples = _patterns(spec, rng)
    for input_id, sample in enumerate(samples):
        if sample.size != spec.elements:
            raise ModelError(
                f"the {generator!r} generator makes {sample.size} values but the model input "
                f"{spec.name!r} takes {spec.elements}"
            )
        yield input_id, quantize(sample, spec)


def _patterns(spec: TensorSpec, rng: np.random.Generator) -> Iterator[np.ndarray]:
    low, high = _real_range(spec)
    position = np.linspace(0.0, 1.0, spec.elements)
    middle, half = (low + high) / 2.0, (high - low) / 2.0
    index = 0
    while True:
        if index % 2 == 0:
            yield rng.uniform(low, high, size=spec.elements)
        else:
            cycles, phase = rng.uniform(1.0, 8.0), rng.uniform(0.0, 2 * np.pi)
            yield middle + half * np.sin(2 * np.pi * cycles * position + phase)
        index += 1


def _real_range(spec: TensorSpec) -> tuple[float, float]:
    """The real values the input can represent (quantized), or a modest range (raw types)."""
    dtype = numpy_dtype(spec)
    if np.issubdtype(dtype, np.integer):
        limits = np.iinfo(dtype)
        if spec.quantized:
            return (limits.min - spec.zero_point) * spec.scale, (limits.max - spec.zero_point) * spec.scale
        # Raw integers (e.g. int16 audio): an eighth of full scale, like a quiet signal.
        return limits.min / 8, limits.max / 8
    if dtype == np.bool_:
        return 0.0, 1.0
    return -1.0, 1.0
