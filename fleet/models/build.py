"""`fleet model build NAME`: train an example model, convert it to full-int8, write it with
its manifest, and measure what quantization cost (needs `fleet[tf]`).

Reproducible: the data generator, Keras initialisation and dropout/shuffle are all seeded
from `seed`, and TensorFlow runs with op determinism. With the same seed and the same
TensorFlow, Keras, numpy and tflite-micro versions, the `.tflite` bytes are bit-identical
from run to run (measured; docs/models.md).

The int8 figures are measured on the real target runtime (the TFLM host interpreter),
not on the TFLite interpreter.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fleet.errors import ConfigError
from fleet.models._tf import tensorflow
from fleet.models.arena import measure_arena
from fleet.models.convert import keras_to_int8
from fleet.models.inputs import quantize
from fleet.models.inspect import inspect_model
from fleet.models.manifest import Manifest, write_manifest
from fleet.models.recipes import RECIPES, Recipe, Trained
from fleet.models.tflm_runner import TflmRunner


@dataclass(frozen=True)
class BuildResult:
    """Where the model went, its manifest, and how long the build took (seconds)."""

    path: Path
    manifest_path: Path
    manifest: Manifest
    seconds: float


def build_model(name: str, out_dir: Path, *, seed: int = 0) -> BuildResult:
    """Build the example model `name` (see RECIPES) into `out_dir/<name>.tflite` + `.json`."""
    recipe = RECIPES.get(name)
    if recipe is None:
        raise ConfigError(f"unknown example model {name!r}; known: {', '.join(sorted(RECIPES))}")
    started = time.perf_counter()
    tf = tensorflow()
    import keras

    # Keras names layers and tensors from process-wide counters, and the names end up in
    # the flatbuffer: start every build from a clean session so bytes do not depend on
    # what the process built before.
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    trained = recipe.train(np.random.default_rng(seed))
    data = keras_to_int8(trained.model, trained.calibration, input_name=recipe.input_name)
    info = inspect_model(data, name=name)
    manifest = Manifest.describe(
        info,
        name=recipe.name,
        version=recipe.version,
        labels=list(recipe.labels),
        description=f"{recipe.description} (fleet model build {recipe.name} --seed {seed})",
        generator=recipe.name,
        metrics=_metrics(recipe, trained, data),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{recipe.name}.tflite"
    path.write_bytes(data)
    manifest_file = write_manifest(manifest, path)
    return BuildResult(path, manifest_file, manifest, time.perf_counter() - started)


def _metrics(recipe: Recipe, trained: Trained, data: bytes) -> dict[str, float]:
    """Float (Keras) versus int8 (TFLM) quality on the held-out test set."""
    float_out = trained.model.predict(trained.test_x, verbose=0)
    runner = TflmRunner(data, measure_arena(data))
    int8_out = np.stack(
        [_dequantize(runner.run(quantize(sample, runner.input)), runner) for sample in trained.test_x]
    ).reshape(float_out.shape)
    if recipe.classifier:
        return {
            "float_accuracy": round(float(np.mean(np.argmax(float_out, axis=-1) == trained.test_y)), 4),
            "int8_accuracy": round(float(np.mean(np.argmax(int8_out, axis=-1) == trained.test_y)), 4),
        }
    return {
        "float_mae": round(float(np.mean(np.abs(float_out - trained.test_y))), 4),
        "int8_mae": round(float(np.mean(np.abs(int8_out - trained.test_y))), 4),
    }


def _dequantize(values: np.ndarray, runner: TflmRunner) -> np.ndarray:
    spec = runner.output
    return (values.astype(np.float64) - spec.zero_point) * spec.scale
