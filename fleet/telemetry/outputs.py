"""Decoding INFER_RESULT output data: tensor bytes (or top-k entries) to real numbers.

The result carries the output's TFLite type and quantization, so no model file is needed:
quantized values become `(q - zero_point) * scale`; float outputs (scale 0) pass through.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from functools import cache

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


# (dtype, format, bytes) -> (dtype name, one struct for the whole output, top-k?, picker):
# checked and built once per shape, not once per result. The sizes come from the board: bounded.
Picker = Callable[[tuple[float, ...], bytes], tuple[float, ...]]
_SHAPES: dict[tuple[int, int, int], tuple[str, struct.Struct, bool, Picker | None]] = {}
_MAX_SHAPES = 256
_TOPK = int(OutputFormat.TOPK)
_MAX_PICKED = 64  # larger 8-bit outputs map the table over their bytes instead


def _shape(dtype: int, fmt: int, size: int) -> tuple[str, struct.Struct, bool, Picker | None]:
    name, element, entry = _layouts(dtype)
    topk = fmt == _TOPK
    if topk and size % entry.size:
        raise MalformedMessage(f"INFER_RESULT: {size} bytes is not a whole number of top-k entries")
    if not topk and size % element.size:
        raise MalformedMessage(f"INFER_RESULT: {size} bytes is not a whole number of {name} values")
    code = TENSOR_TYPES[dtype][1]
    count = size // (entry.size if topk else element.size)
    if len(_SHAPES) >= _MAX_SHAPES:
        _SHAPES.clear()
    pick = _picker(count) if dtype in _BYTE_CODES and not topk and count <= _MAX_PICKED else None
    shape = _SHAPES[(dtype, fmt, size)] = (name, struct.Struct("<" + ("H" + code if topk else code) * count), topk, pick)
    return shape


def _picker(count: int) -> Picker:
    """`(table[data[0]], ..., table[data[count - 1]])` as one expression: a raw 8-bit output's
    values, looked up by its bytes (a quarter of the cost of mapping the table over them)."""
    items = "".join(f"t[d[{i}]], " for i in range(count))
    return eval(f"lambda t, d: ({items})")  # type: ignore[no-any-return]  # noqa: S307 - built from a count only


# 8-bit outputs: every value a code can have, computed once per quantization, so a result's
# values are lookups instead of a Python expression each. Indexed by the code itself: an
# int8 code below zero reads from the end of the table, where its value is, as does the
# code's byte (0..255) that a raw output's picker indexes with.
_BYTE_CODES = {3: False, 9: True}  # uint8, int8 (signed?)
_TABLES: dict[tuple[int, float, int], tuple[float, ...]] = {}
_MAX_TABLES = 64


def _table(dtype: int, scale: float, zero: int) -> tuple[float, ...]:
    signed = _BYTE_CODES[dtype]
    if len(_TABLES) >= _MAX_TABLES:  # a board that changes its quantization every result: bounded
        _TABLES.clear()
    table = _TABLES[(dtype, scale, zero)] = tuple(((i - 256 if signed and i > 127 else i) - zero) * scale
                                                  for i in range(256))  # fmt: skip
    return table


def decode_output(msg: InferResult) -> tuple[str, tuple[float, ...], tuple[int, ...] | None]:
    """(dtype name, dequantized values, output indices for top-k results or None)."""
    return decode_values(msg.dtype, msg.format, msg.scale, msg.zero_point, msg.data)


def decode_values(dtype: int, fmt: int, scale: float, zero: int,
                  data: bytes) -> tuple[str, tuple[float, ...], tuple[int, ...] | None]:  # fmt: skip
    """`decode_output` of an INFER_RESULT's fields (as the stream fast path has them)."""
    key = (dtype, fmt, len(data))
    name, layout, topk, pick = _SHAPES.get(key) or _shape(*key)
    if pick is not None and scale and scale == scale:  # the usual quantized output (not a NaN scale)
        return name, pick(_TABLES.get((dtype, scale, zero)) or _table(dtype, scale, zero), data), None
    flat = layout.unpack(data)
    indices: tuple[int, ...] | None = flat[0::2] if topk else None
    raw = flat[1::2] if topk else flat
    if scale and dtype in _BYTE_CODES and scale == scale:  # 8-bit, the usual quantized output (not a NaN scale)
        table = _TABLES.get((dtype, scale, zero)) or _table(dtype, scale, zero)
        values = tuple(map(table.__getitem__, raw))
    elif scale:
        values = tuple([(q - zero) * scale for q in raw])  # a float: scale is one
    else:
        values = tuple([float(q) for q in raw])
    return name, values, indices


def top(values: tuple[float, ...], indices: tuple[int, ...] | None) -> tuple[int | None, float | None]:
    """(output index, value) of the largest value; the first one on ties."""
    if not values:
        return None, None
    best = values.index(max(values))  # the first largest, as max() keeps the first of equals
    return (indices[best] if indices is not None else best), values[best]
