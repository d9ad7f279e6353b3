"""input_stream: right shape, dtype and quantization for any model; deterministic."""

from __future__ import annotations

import itertools

from tests.support.sim import require_sim

require_sim()  # runs models with TFLite Micro

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fleet.models.bundled import bundled_model  # noqa: E402
from fleet.models.inputs import input_stream, quantize  # noqa: E402
from fleet.models.inspect import inspect_model  # noqa: E402

from .conftest import float_sine  # noqa: E402


def _take(info, seed, count, manifest=None):
    return list(itertools.islice(input_stream(info, seed, manifest), count))


def test_sine_sweep_is_quantized_x() -> None:
    info = inspect_model(bundled_model("sine").read_bytes())
    spec = info.inputs[0]
    pairs = _take(info, 0, 64)
    assert [i for i, _ in pairs] == list(range(64))
    x = np.array([(float(a[0, 0]) - spec.zero_point) * spec.scale for _, a in pairs])
    assert all(a.dtype == np.int8 and a.shape == (1, 1) for _, a in pairs)
    assert x[0] == pytest.approx(0.0)
    assert np.all(np.diff(x) > 0)  # a monotonic sweep over one period
    assert x[-1] == pytest.approx(2 * np.pi * 63 / 64, abs=spec.scale)


@pytest.mark.parametrize(
    "name", ["gesture", "micro_speech_quantized.tflite", "person_detect.tflite", "audio_preprocessor_int8.tflite"]
)
def test_any_model_gets_valid_varied_inputs(shared_model, name: str) -> None:
    info = inspect_model(bundled_model(name).read_bytes() if name == "gesture" else shared_model(name))
    spec = info.inputs[0]
    first = _take(info, 3, 4)
    for _, array in first:
        assert array.shape == spec.shape and array.dtype.name == spec.dtype
    assert len({a.tobytes() for _, a in first}) == 4
    again = _take(info, 3, 4)
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(first, again))
    assert not np.array_equal(first[0][1], _take(info, 4, 1)[0][1])


@pytest.mark.parametrize("name", ["float_sine", "hello_world_float.tflite"])
def test_float_model_gets_float_inputs(shared_model, name: str) -> None:
    info = inspect_model(float_sine() if name == "float_sine" else shared_model(name))
    (_, array), *_ = _take(info, 0, 2)
    assert array.dtype == np.float32 and array[0, 0] == 0.0


def test_quantize_clips_to_the_type() -> None:
    spec = inspect_model(bundled_model("sine").read_bytes()).inputs[0]
    assert quantize(np.array([-100.0, 100.0]).reshape(2, 1)[:1], spec).item() == -128
    assert quantize(np.array([100.0]), spec).item() == 127
