"""Fixtures for the model toolkit tests.

The default tests use the models fleet bundles (and float / custom-op models derived
from the bundled sine below). The public example models live outside the repository, in
../shared/models next to it; tests about one of them skip (saying so) where that folder
is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shared_models import shared_model_path
from tests.support.sim import require_sim

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shared_model():
    """Returns a function giving the bytes of a model in ../shared/models, or skipping the test."""
    return lambda name: shared_model_path(name).read_bytes()


@pytest.fixture(scope="session")
def built_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding `fleet model build sine` and `gesture` outputs, built as a user would."""
    pytest.importorskip("tensorflow", reason="needs the TensorFlow extra (fleet[tf])")
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("built")
    for name in ("sine", "gesture"):
        subprocess.run(
            [sys.executable, "-m", "fleet", "model", "build", name, "--out", str(out), "--json"],
            check=True,
            cwd=REPO_ROOT,
            capture_output=True,
        )
    return out


def _rebuilt(data: bytes, edit) -> bytes:
    """`data` unpacked with the TFLite schema's object API, changed by `edit(model)`, packed again."""
    require_sim()  # the schema's object API comes with TFLite Micro
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(data, 0)
    edit(model, schema)
    builder = flatbuffers.Builder(len(data) * 2)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def float_sine() -> bytes:
    """The bundled sine with every tensor dequantized to float32 (no quantization left):
    the float counterpart of sine, as hello_world_float is of hello_world_int8."""
    require_sim()  # numpy
    import numpy as np

    from fleet.models.bundled import bundled_model

    def dequantize(model, schema) -> None:
        for tensor in model.subgraphs[0].tensors:
            q, buf = tensor.quantization, model.buffers[tensor.buffer]
            if buf.data is not None and len(buf.data):
                dtype = {schema.TensorType.INT8: np.int8, schema.TensorType.INT32: np.int32}[tensor.type]
                values = np.frombuffer(bytes(bytearray(buf.data)), dtype).reshape(tensor.shape).astype(np.float64)
                shape = [1] * len(tensor.shape)
                shape[q.quantizedDimension] = -1
                scale = np.asarray(q.scale).reshape(shape)
                zero_point = np.asarray(q.zeroPoint).reshape(shape)
                buf.data = np.frombuffer(((values - zero_point) * scale).astype("<f4").tobytes(), np.uint8)
            tensor.type = schema.TensorType.FLOAT32
            tensor.quantization = None

    return _rebuilt(bundled_model("sine").read_bytes(), dequantize)


def custom_op_sine(name: str = "FleetTestOp") -> bytes:
    """The bundled sine with its last operator turned into a custom op called `name`."""
    from fleet.models.bundled import bundled_model

    def customize(model, schema) -> None:
        code = schema.OperatorCodeT()
        code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
        code.customCode = name
        model.operatorCodes.append(code)
        model.subgraphs[0].operators[-1].opcodeIndex = len(model.operatorCodes) - 1

    return _rebuilt(bundled_model("sine").read_bytes(), customize)
