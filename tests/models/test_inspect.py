"""inspect_model on the bundled models and the public example models (../shared, skipped
where absent): every field against known figures."""

from __future__ import annotations

import hashlib

import pytest

from fleet.errors import ModelError
from fleet.models.bundled import bundled_model
from fleet.models.inspect import inspect_file, inspect_model

from .conftest import custom_op_sine, float_sine

# name -> (size, ops, input (dtype, shape), output (dtype, shape), MACs)
BUNDLED = {
    "sine": (3568, {"FULLY_CONNECTED": 3}, ("int8", (1, 1)), ("int8", (1, 1)), 1 * 16 + 16 * 16 + 16 * 1),
    "gesture": (
        5552,
        {"RESHAPE": 2, "CONV_2D": 1, "AVERAGE_POOL_2D": 1, "FULLY_CONNECTED": 2, "SOFTMAX": 1},
        ("int8", (1, 32, 3)),
        ("int8", (1, 4)),
        # conv: 28x8 outputs x 5x3 kernel; average pool: 7x8 outputs x 4; fully connected: 56x16 + 16x4
        28 * 8 * 5 * 3 + 7 * 8 * 4 + 56 * 16 + 16 * 4,
    ),
}
EXPECTED = {
    "hello_world_int8.tflite": (2704, {"FULLY_CONNECTED": 3}, ("int8", (1, 1)), ("int8", (1, 1)), 288),
    "hello_world_float.tflite": (3164, {"FULLY_CONNECTED": 3}, ("float32", (1, 1)), ("float32", (1, 1)), 288),
    "micro_speech_quantized.tflite": (
        18800,
        {"RESHAPE": 1, "DEPTHWISE_CONV_2D": 1, "FULLY_CONNECTED": 1, "SOFTMAX": 1},
        ("int8", (1, 1960)),
        ("int8", (1, 4)),
        # depthwise: 25x20x8 outputs x 10x8 kernel; fully connected: 4 x 4000
        25 * 20 * 8 * 10 * 8 + 4 * 4000,
    ),
    "person_detect.tflite": (
        300568,
        {"DEPTHWISE_CONV_2D": 14, "CONV_2D": 14, "AVERAGE_POOL_2D": 1, "RESHAPE": 1, "SOFTMAX": 1},
        ("int8", (1, 96, 96, 1)),
        ("int8", (1, 2)),
        7_160_192,
    ),
}


def _check(data: bytes, expected: tuple) -> None:
    size, ops, (in_dtype, in_shape), (out_dtype, out_shape), macs = expected
    info = inspect_model(data)
    assert info.size == size
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.ops == ops
    assert [(t.dtype, t.shape) for t in info.inputs] == [(in_dtype, in_shape)]
    assert [(t.dtype, t.shape) for t in info.outputs] == [(out_dtype, out_shape)]
    assert info.macs == macs
    assert info.subgraphs == 1


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_models(name: str) -> None:
    _check(bundled_model(name).read_bytes(), BUNDLED[name])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_models(shared_model, name: str) -> None:
    _check(shared_model(name), EXPECTED[name])


# model -> input (scale, name), output (zero point, scale); sine's are in sine.json too
QUANTIZATION = {
    "sine": ((0.024571197107434273, "serving_default_x:0"), (0, 0.008060774765908718)),
    "hello_world_int8.tflite": ((0.024480115622282028, "serving_default_dense_input:0"), (5, 0.008290956728160381)),
}


@pytest.mark.parametrize("name", list(QUANTIZATION))
def test_quantization_parameters(shared_model, name: str) -> None:
    data = bundled_model(name).read_bytes() if name in BUNDLED else shared_model(name)
    (in_scale, in_name), (out_zero_point, out_scale) = QUANTIZATION[name]
    info = inspect_model(data)
    (inp,), (out,) = info.inputs, info.outputs
    assert (inp.type_code, inp.zero_point) == (9, -128)
    assert inp.scale == pytest.approx(in_scale)
    assert (out.zero_point, out.scale) == (out_zero_point, pytest.approx(out_scale))
    assert inp.name == in_name


@pytest.mark.parametrize("name", ["float_sine", "hello_world_float.tflite"])
def test_float_tensors_have_no_quantization(shared_model, name: str) -> None:
    (inp,) = inspect_model(float_sine() if name == "float_sine" else shared_model(name)).inputs
    assert (inp.type_code, inp.scale, inp.zero_point, inp.quantized) == (0, 0.0, 0, False)


def test_custom_op_is_named_by_its_custom_code() -> None:
    info = inspect_model(custom_op_sine("FleetTestOp"))
    assert info.ops == {"FULLY_CONNECTED": 2, "FleetTestOp": 1}


def test_custom_ops_are_named_by_custom_code(shared_model) -> None:
    info = inspect_model(shared_model("audio_preprocessor_int8.tflite"))
    assert "CUSTOM" not in info.ops
    assert info.ops["SignalRfft"] == 1 and info.ops["CAST"] == 4
    assert [(t.dtype, t.shape) for t in info.inputs] == [("int16", (1, 480))]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a TFLite model"),
        (b"\x00" * 7, "not a TFLite model"),
        (b'{"name": "x"}\n', "not a TFLite model"),
        (b"\x10\x00\x00\x00TFL3", "malformed TFLite model"),
    ],
)
def test_garbage_is_a_model_error(data: bytes, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        inspect_model(data, name="bad.tflite")


def test_truncated_model_names_file_and_problem() -> None:
    data = bundled_model("sine").read_bytes()
    with pytest.raises(ModelError) as caught:
        inspect_model(data[: len(data) // 2], name="half.tflite")
    assert str(caught.value).startswith("half.tflite: malformed TFLite model: ")
    assert caught.value.hint


def test_inspect_file_reports_unreadable_path(tmp_path) -> None:
    with pytest.raises(ModelError, match="cannot read model"):
        inspect_file(tmp_path / "missing.tflite")
