"""New versions of a model, made the ways models change on a bench, for delta uploads.

Each variant rewrites bytes in place, so the flatbuffer's layout (every offset in it) stays
valid and the result is a model a board loads:

- `retrain_last_layer`: new weights (and bias) for the last operator with int8 constant
  weights (a retrained classifier head);
- `change_description`: a new description string of the same length (a manifest or version
  bump that touches only metadata);
- `requantize_tensor`: the largest int8 weight tensor re-quantised with 10 % larger scales
  (its values and its scales change, nothing else; per-channel scales all move).
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass

from fleet.errors import ModelError
from fleet.models.flatbuf import Buffer, Table

_INT8 = 9


@dataclass(frozen=True, slots=True)
class _Tensor:
    table: Table
    data: tuple[int, int] | None  # (first byte, length) of its constant data, None for activations
    type: int


def _tensors(data: bytes) -> tuple[Table, list[_Tensor], list[Table]]:
    model = Buffer(data).root("Model")
    buffers = model.tables(4, "buffers")
    subgraphs = model.tables(2, "subgraphs")
    if not subgraphs:
        raise ModelError("the model has no subgraph")
    subgraph = subgraphs[0]
    tensors = []
    for t in subgraph.tables(0, "tensors"):
        index = int(t.scalar(2, "I", 0, "buffer"))
        span = buffers[index].vector_span(0, 1, "data") if 0 < index < len(buffers) else None
        tensors.append(_Tensor(t, span if span and span[1] else None, int(t.scalar(1, "b", 0, "type"))))
    return model, tensors, subgraph.tables(3, "operators")


def retrain_last_layer(data: bytes, seed: int = 1) -> bytes:
    """`data` with every constant input of its last operator with int8 constant weights
    given new values."""
    _, tensors, operators = _tensors(data)
    rng = random.Random(seed)
    out = bytearray(data)
    for op in reversed(operators):
        inputs = [tensors[i] for i in op.scalars(1, "i", "inputs") if i >= 0]
        constant = [t.data for t in inputs if t.data]
        if any(t.data and t.type == _INT8 for t in inputs):
            for first, length in constant:
                out[first : first + length] = bytes(rng.randrange(256) for _ in range(length))
            return bytes(out)
    raise ModelError("the model has no operator with int8 constant weights")


def change_description(data: bytes, text: str = "v2") -> bytes:
    """`data` with its description string overwritten by `text`, padded to the same length."""
    model, _, _ = _tensors(data)
    span = model.vector_span(3, 1, "description")
    if span is None or span[1] == 0:
        raise ModelError("the model has no description string to change")
    first, length = span
    new = text.encode()[:length].ljust(length, b" ")
    if new == data[first : first + length]:
        new = new[::-1]
    return data[:first] + new + data[first + length :]


def requantize_tensor(data: bytes, factor: float = 1.1) -> bytes:
    """`data` with its largest quantised int8 constant tensor re-quantised: every scale ×
    factor, values ÷ factor (rounded)."""
    _, tensors, _ = _tensors(data)
    candidates = []
    for t in tensors:
        quant = t.table.table(4, "quantization")
        scale = quant.vector_span(2, 4, "scale") if quant else None
        if t.data and t.type == _INT8 and scale and scale[1]:
            candidates.append((t.data[1], t.data, scale))
    if not candidates:
        raise ModelError("the model has no quantised int8 constant tensor")
    _, (first, length), (scale_pos, scales) = max(candidates)
    out = bytearray(data)
    values = struct.unpack_from(f"<{length}b", data, first)
    struct.pack_into(f"<{length}b", out, first, *(max(-128, min(127, round(v / factor))) for v in values))
    old = struct.unpack_from(f"<{scales}f", data, scale_pos)
    struct.pack_into(f"<{scales}f", out, scale_pos, *(s * factor for s in old))
    return bytes(out)
