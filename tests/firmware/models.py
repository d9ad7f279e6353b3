"""Example models for the firmware tests, and variants of sine with other weights and
quantization, made by editing the flatbuffer in place (same layout, different numbers):
still FULLY_CONNECTED-only int8 models, so the reference runner must match the TFLM
interpreter on them too.

sine and gesture are the models fleet bundles (fleet/models/examples), so the default
tests never need ../shared; hello_world (the public int8 example, same architecture as
sine) skips where ../shared/models is absent."""

from __future__ import annotations

import numpy as np

from fleet.models.bundled import bundled_model
from tests.support.firmware import model_bytes


def sine() -> bytes:
    """The bundled sine model: int8 [1, 1] -> int8 [1, 1], FULLY_CONNECTED x3."""
    return bundled_model("sine").read_bytes()


def gesture() -> bytes:
    """The bundled gesture classifier: RESHAPE first, which the reference runner lacks."""
    return bundled_model("gesture").read_bytes()


def hello_world() -> bytes:
    return model_bytes("hello_world_int8.tflite")


def variant(seed: int, consistent_bias: bool = True, base: bytes | None = None) -> bytes:
    """`base` (default sine) with random int8 weights, int32 biases, and activation scales / zero
    points drawn from `seed`. With `consistent_bias`, each bias scale is set to input
    scale x filter scale, as a converter writes it (TFLM refuses other models where the
    filter has one scale and the difference exceeds 2 % of the output scale)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    buf = bytearray(sine() if base is None else base)
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
            b[:] = (x[0] * w).astype(np.float32)  # per channel where the filter is (sine's first two)
    return bytes(buf)
