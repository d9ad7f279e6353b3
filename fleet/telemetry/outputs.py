"""Decoding INFER_RESULT output data: tensor bytes (or top-k entries) to real numbers.

The result carries the output's TFLite type and quantization, so no model file is needed:
quantized values become `(q - zero_point) * scale`; float outputs (scale 0) pass through.
"""

from __future__ import annotations

import struct
from functools import cache, lru_cache

from fleet.errors import MalformedMessage
from fleet.protocol import InferResult, OutputFormat

# TFLite TensorType code -> (name, struct format of one element).
TENSOR_TYPES: dict[int, tuple[str, str]] = {
    0: ("float32", "f"),
    1: ("float16", "e"),
    2: ("int32", "i"),
    3: ("uint8", "B"),
    4: ("int64", "q"),
    6: ("bool", "?"),
    7: ("int16", "h"),
    9: ("int8", "b"),
    10: ("float64", "d"),
    12: ("uint64", "Q"),
    15: ("uint32", "I"),
    16: ("uint16", "H"),
}


@cache
def _layouts(dtype: int) -> tuple[str, struct.Struct, struct.Struct]:
    try:
        name, fmt = TENSOR_TYPES[dtype]
    except KeyError:
        raise MalformedMessage(f"INFER_RESULT: output type code {dtype} is not one fleet can read") from None
    return name, struct.Struct("<" + fmt), struct.Struct("<H" + fmt)


@lru_cache(maxsize=256)  # bounded: the count comes from the board
def _array(dtype: int, count: int, topk: bool) -> struct.Struct:
    """All `count` elements (or top-k entries) of one output in one struct: one unpack a result."""
    fmt = TENSOR_TYPES[dtype][1]
    return struct.Struct("<" + ("H" + fmt if topk else fmt) * count)


def decode_output(msg: InferResult) -> tuple[str, tuple[float, ...], tuple[int, ...] | None]:
    """(dtype name, dequantized values, output indices for top-k results or None)."""
    name, element, entry = _layouts(msg.dtype)
    data = msg.data
    if msg.format == OutputFormat.TOPK:
        if len(data) % entry.size:
            raise MalformedMessage(f"INFER_RESULT: {len(data)} bytes is not a whole number of top-k entries")
        flat = _array(msg.dtype, len(data) // entry.size, True).unpack(data)
        indices: tuple[int, ...] | None = flat[0::2]
        raw = flat[1::2]
    else:
        if len(data) % element.size:
            raise MalformedMessage(f"INFER_RESULT: {len(data)} bytes is not a whole number of {name} values")
        indices = None
        raw = _array(msg.dtype, len(data) // element.size, False).unpack(data)
    scale, zero = msg.scale, msg.zero_point
    if scale:
        values = tuple([float((q - zero) * scale) for q in raw])
    else:
        values = tuple([float(q) for q in raw])
    return name, values, indices


def top(values: tuple[float, ...], indices: tuple[int, ...] | None) -> tuple[int | None, float | None]:
    """(output index, value) of the largest value; the first one on ties."""
    if not values:
        return None, None
    best = values.index(max(values))  # the first largest, as max() keeps the first of equals
    return (indices[best] if indices is not None else best), values[best]
