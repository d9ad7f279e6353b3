"""Convert Keras models and SavedModels to full-integer int8 `.tflite` (needs `fleet[tf]`).

Full-int8 means every operator, the input and the output are int8, calibrated on a
representative dataset: what TFLM kernels on microcontrollers run fastest and what our
board profiles list. Measured with TensorFlow 2.21 / Keras 3: `TFLiteConverter
.from_keras_model` and `.from_saved_model` work; `.from_concrete_functions` fails on
READ_VARIABLE ops, so it is not used.

Keras models are converted with batch size 1: with a dynamic batch, `Flatten` and
`Reshape` become SHAPE/STRIDED_SLICE/PACK operators that most boards do not register.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from fleet.errors import ModelError
from fleet.models._tf import quiet, tensorflow

CALIBRATION_SAMPLES = 200  # representative samples the converter sees; more adds nothing measurable


def keras_to_int8(
    model: Any, calibration: np.ndarray, *, input_name: str = "input", per_channel_dense: bool = True
) -> bytes:
    """Full-int8 flatbuffer of a Keras model with one input; `calibration` holds input samples.

    `input_name` names the model's input tensor (it becomes "serving_default_<name>:0");
    naming it keeps the output bytes independent of how many Keras tensors the process made.
    `per_channel_dense=False` gives Dense layers one weight scale per tensor (what older
    converters wrote, and a different multiplier path in TFLM's FULLY_CONNECTED).
    """
    tf = tensorflow()
    import keras

    if len(model.inputs) != 1:
        raise ModelError(f"conversion supports single-input models; this one has {len(model.inputs)} inputs")
    fixed_input = keras.Input(shape=tuple(model.inputs[0].shape[1:]), batch_size=1, name=input_name)
    fixed = keras.Model(fixed_input, model(fixed_input))
    converter = tf.lite.TFLiteConverter.from_keras_model(fixed)
    converter._experimental_disable_per_channel_quantization_for_dense_layers = not per_channel_dense
    return _convert(converter, calibration)


def saved_model_to_int8(directory: Path, calibration: np.ndarray) -> bytes:
    """Full-int8 flatbuffer of a SavedModel directory (its default serving signature)."""
    tf = tensorflow()
    return _convert(tf.lite.TFLiteConverter.from_saved_model(str(directory)), calibration)


def convert_path(source: Path, calibration: np.ndarray | None, *, seed: int = 0) -> bytes:
    """Convert a `.keras`/`.h5` file or a SavedModel directory to full-int8 bytes.

    Without `calibration`, the converter is calibrated on standard-normal noise of the
    input's shape: a valid model, but its quantization ranges only suit inputs scaled to
    about [-3, 3]. Pass real samples for anything that matters.
    """
    if source.is_dir():
        if not (source / "saved_model.pb").is_file():
            raise ModelError(f"{source}: a directory, but not a SavedModel (no saved_model.pb)")
        shape = _saved_model_input_shape(source)
        return saved_model_to_int8(source, _calibration(calibration, shape, seed, source))
    if source.suffix not in (".keras", ".h5"):
        raise ModelError(f"{source}: expected a .keras or .h5 Keras model, or a SavedModel directory")
    if not source.is_file():
        raise ModelError(f"{source}: no such file")
    tensorflow()
    import keras

    try:
        model = keras.models.load_model(source, compile=False)
    except Exception as exc:  # Keras raises anything from ValueError to OSError on bad files
        raise ModelError(f"{source}: cannot load Keras model: {exc}") from None
    shape = (1, *model.inputs[0].shape[1:])
    return keras_to_int8(model, _calibration(calibration, shape, seed, source), input_name=_tensor_name(source.stem))


def _convert(converter: Any, calibration: np.ndarray) -> bytes:
    tf = tensorflow()
    samples = calibration[:CALIBRATION_SAMPLES].astype(np.float32)

    def representative() -> Iterator[list[np.ndarray]]:
        for sample in samples:
            yield [sample[np.newaxis]]

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    log = io.StringIO()
    try:
        with quiet(log), warnings.catch_warnings():
            # Expected with int8 input/output types: the input range comes from calibration.
            warnings.filterwarnings("ignore", message="Statistics for quantized inputs were expected")
            return bytes(converter.convert())
    except Exception as exc:  # the converter raises ConverterError, RuntimeError, ValueError...
        detail = " | ".join(line for line in log.getvalue().splitlines() if "error" in line.lower())[-800:]
        raise ModelError(f"TFLite full-int8 conversion failed: {exc}" + (f" ({detail})" if detail else "")) from None


def _calibration(samples: np.ndarray | None, shape: tuple[int, ...], seed: int, source: Path) -> np.ndarray:
    if samples is None:
        rng = np.random.default_rng(seed)
        return rng.standard_normal((CALIBRATION_SAMPLES, *shape[1:])).astype(np.float32)
    if tuple(samples.shape[1:]) != tuple(shape[1:]):
        raise ModelError(
            f"{source}: calibration samples have shape {list(samples.shape[1:])} each, "
            f"the model input takes {list(shape[1:])}"
        )
    return samples


def _saved_model_input_shape(directory: Path) -> tuple[int, ...]:
    tf = tensorflow()
    log = io.StringIO()
    with quiet(log):
        loaded = tf.saved_model.load(str(directory))
    signature = loaded.signatures.get("serving_default")
    if signature is None:
        raise ModelError(f"{directory}: the SavedModel has no serving_default signature")
    specs = list(signature.structured_input_signature[1].values())
    if len(specs) != 1:
        raise ModelError(f"{directory}: conversion supports single-input models; this one has {len(specs)} inputs")
    return tuple(1 if d is None else int(d) for d in specs[0].shape)


def _tensor_name(text: str) -> str:
    name = "".join(c if c.isalnum() else "_" for c in text).strip("_")
    return name or "input"
