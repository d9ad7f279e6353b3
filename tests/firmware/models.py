"""Example models for the firmware tests, and variants of hello_world with other
weights and quantization, made by editing the flatbuffer in place (same layout,
different numbers): still FULLY_CONNECTED-only int8 models, so the reference runner
must match the TFLM interpreter on them too."""

from __future__ import annotations

import numpy as np

from tests.firmware.conftest import model_bytes


def hello_world() -> bytes:
    return model_bytes("hello_world_int8.tflite")


def variant(seed: int, consistent_bias: bool = True) -> bytes:
    """hello_world with random int8 weights, int32 biases, and activation scales / zero
    points drawn from `seed`. With `consistent_bias`, each bias scale is set to input
    scale x filter scale, as a converter writes it (TFLM refuses other models)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    buf = bytearray(hello_world())
    rng = np.random.default_rng(seed)
    model = schema.Model.GetRootAsModel(buf, 0)
    graph = model.Subgraphs(0)
    for i in range(graph.TensorsLength()):
        tensor = graph.Tensors(i)
        data = model.Buffers(tensor.Buffer()).DataAsNumpy()
        constant = isinstance(data, np.ndarray) and data.size > 0
        # DataAsNumpy/ScaleAsNumpy are views into `buf`: writing them edits the model.
        if constant and tensor.Type() == schema.TensorType.INT8:
            data[:] = rng.integers(-127, 128, data.size).astype(np.int8).view(np.uint8)
        elif constant and tensor.Type() == schema.TensorType.INT32:
            data[:] = rng.integers(-3000, 3000, data.size // 4).astype("<i4").view(np.uint8)
        elif not constant and i != graph.Inputs(0):
            q = tensor.Quantization()
            q.ScaleAsNumpy()[:] = rng.uniform(0.002, 0.05)
            q.ZeroPointAsNumpy()[:] = rng.integers(-128, 100)
    if consistent_bias:
        for j in range(graph.OperatorsLength()):
            op = graph.Operators(j)
            x, w, b = (graph.Tensors(int(t)).Quantization().ScaleAsNumpy() for t in op.InputsAsNumpy())
            b[:] = np.float32(x[0] * w[0])
    return bytes(buf)
