"""The reference runner against the TFLM interpreter: the bundled sine and 20 variants of
it with random weights, biases and output quantization, hello_world_int8 with 5
variants (from ../shared, skipped where absent), and a 64-32-64 autoencoder with
per-tensor weight scales built with TensorFlow and 40 variants of it, every input id of
a full sweep, bit for bit."""

from __future__ import annotations

import subprocess

import pytest

from tests.support.board_link import tflm_outputs
from tests.support.firmware import FIRMWARE, make
from tests.firmware.models import gesture, hello_world, sine, variant
from tests.firmware.tf_models import tf_model


@pytest.fixture(scope="module")
def fw_run():
    result = make("fw_run")
    assert result.returncode == 0, result.stdout + result.stderr
    return FIRMWARE / "build" / "fw_run"


def run(fw_run, model: bytes, tmp_path, first: int = 0, count: int = 256) -> dict[int, bytes]:
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    out = subprocess.run([str(fw_run), str(path), str(first), str(count)], capture_output=True, text=True, check=True)
    lines = out.stdout.split("\n")
    assert lines[0].startswith("arena ")
    return {int(k): bytes.fromhex(v) for k, v in (line.split() for line in lines[1:] if line)}


@pytest.mark.parametrize("seed", ["sine", *range(20)], ids=lambda s: s if isinstance(s, str) else f"variant{s}")
def test_bit_identical_to_tflm(fw_run, tmp_path, seed):
    model = sine() if seed == "sine" else variant(seed)
    ours = run(fw_run, model, tmp_path)
    assert ours == tflm_outputs(model, range(256))


@pytest.mark.parametrize("seed", [None, *range(5)], ids=lambda s: "hello_world" if s is None else f"variant{s}")
def test_hello_world_bit_identical_to_tflm(fw_run, tmp_path, seed):
    """The public hello_world_int8 itself, and variants of it: unlike sine, every layer
    has a single filter scale."""
    model = hello_world() if seed is None else variant(seed, base=hello_world())
    ours = run(fw_run, model, tmp_path)
    assert ours == tflm_outputs(model, range(256))


@pytest.mark.tf
@pytest.mark.parametrize("seed", [None, *range(40)], ids=lambda s: "built" if s is None else f"variant{s}")
def test_per_tensor_fully_connected_bit_identical_to_tflm(fw_run, tmp_path, seed):
    """One weight scale per layer: TFLM forms the multiplier from input x filter / output
    in double. The runner used a float product input x filter, 1 LSB off on 2 of 256
    inputs of variant 31."""
    base = tf_model("fc_per_tensor")
    model = base if seed is None else variant(seed, consistent_bias=False, base=base)
    ours = run(fw_run, model, tmp_path)
    assert ours == tflm_outputs(model, range(256))


def test_unsupported_op_is_refused_with_its_name(fw_run, tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(gesture())
    out = subprocess.run([str(fw_run), str(path), "0", "1"], capture_output=True, text=True)
    assert out.returncode == 1 and out.stdout.strip() == "error 11 RESHAPE"


def test_bias_scale_mismatch_is_refused_like_tflm(fw_run, tmp_path):
    from tflite_micro import runtime

    model = variant(8, consistent_bias=False)  # the last FULLY_CONNECTED (one filter scale) is off
    with pytest.raises(RuntimeError):
        runtime.Interpreter.from_bytes(model)
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    out = subprocess.run([str(fw_run), str(path), "0", "1"], capture_output=True, text=True)
    assert out.stdout.startswith("error 10 ")  # MODEL_INVALID


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 0.0, -0.5], ids=["nan", "inf", "zero", "negative"])
def test_unusable_output_scale_is_refused(fw_run, tmp_path, bad):
    """Found by the fuzzer: a NaN scale reached a float-to-int conversion (undefined)."""
    import numpy as np
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    buf = bytearray(sine())
    graph = schema.Model.GetRootAsModel(buf, 0).Subgraphs(0)
    graph.Tensors(graph.Outputs(0)).Quantization().ScaleAsNumpy()[:] = np.float32(bad)
    path = tmp_path / "m.tflite"
    path.write_bytes(bytes(buf))
    out = subprocess.run([str(fw_run), str(path), "0", "1"], capture_output=True, text=True)
    assert out.stdout.startswith("error 10 ")
