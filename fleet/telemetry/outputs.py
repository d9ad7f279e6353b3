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


Decoded = tuple[str, tuple[float, ...], tuple[int, ...] | None]  # (dtype name, values, indices)
Decoder = Callable[[bytes], Decoded]
# (dtype, format, bytes, scale, zero point) -> the decoder of such an output: checked and
# built once per shape and quantization, not once per result. They come from the board: bounded.
_DECODERS: dict[tuple[int, int, int, float, int], Decoder] = {}
_MAX_DECODERS = 256
_TOPK = int(OutputFormat.TOPK)
_MAX_PICKED = 64  # larger 8-bit outputs map the table over their bytes instead
_BYTE_CODES = {3: False, 9: True}  # uint8, int8 (signed?)


def decode_output(msg: InferResult) -> Decoded:
    """(dtype name, dequantized values, output indices for top-k results or None)."""
    return decode_values(msg.dtype, msg.format, msg.scale, msg.zero_point, msg.data)


def decode_values(dtype: int, fmt: int, scale: float, zero: int, data: bytes) -> Decoded:
    """`decode_output` of an INFER_RESULT's fields (as the stream fast path has them)."""
    decode = _DECODERS.get((dtype, fmt, len(data), scale, zero))
    if decode is None:
        decode = _decoder(dtype, fmt, len(data), scale, zero)
    return decode(data)


def _decoder(dtype: int, fmt: int, size: int, scale: float, zero: int) -> Decoder:
    name, element, entry = _layouts(dtype)
    topk = fmt == _TOPK
    if topk and size % entry.size:
        raise MalformedMessage(f"INFER_RESULT: {size} bytes is not a whole number of top-k entries")
    if not topk and size % element.size:
        raise MalformedMessage(f"INFER_RESULT: {size} bytes is not a whole number of {name} values")
    count = size // (entry.size if topk else element.size)
    code = TENSOR_TYPES[dtype][1]
    quantized = bool(scale) and scale == scale  # not a float output (scale 0), not a NaN scale
    decode: Decoder
    if quantized and dtype in _BYTE_CODES and not topk and count <= _MAX_PICKED:
        decode = _picker(name, count, _table(dtype, scale, zero))
    else:
        layout = struct.Struct("<" + ("H" + code if topk else code) * count)
        table = _table(dtype, scale, zero) if quantized and dtype in _BYTE_CODES else None

        def decode(data: bytes) -> Decoded:
            flat = layout.unpack(data)
            raw = flat[1::2] if topk else flat
            if table is not None:
                values = tuple(map(table.__getitem__, raw))
            elif scale:
                values = tuple([(q - zero) * scale for q in raw])  # a float: scale is one
            else:
                values = tuple([float(q) for q in raw])
            return name, values, flat[0::2] if topk else None

    if scale == scale:  # a NaN never equals itself, so its key would never be found again
        if len(_DECODERS) >= _MAX_DECODERS:  # a board that changes its outputs every result: bounded
            _DECODERS.clear()
        _DECODERS[(dtype, fmt, size, scale, zero)] = decode
    return decode


def _picker(name: str, count: int, table: tuple[float, ...]) -> Decoder:
    """A raw 8-bit output of `count` values, looked up by its bytes as one expression:
    `(name, (table[data[0]], ..., table[data[count - 1]]), None)` (a quarter of the cost of
    mapping the table over them)."""
    items = "".join(f"t[d[{i}]], " for i in range(count))
    return eval(f"lambda d, t=t, n=n: (n, ({items}), None)", {"t": table, "n": name})  # type: ignore[no-any-return]  # noqa: S307 - built from a count only


def _table(dtype: int, scale: float, zero: int) -> tuple[float, ...]:
    # 8-bit outputs: every value a code can have, computed once per quantization, so a
    # result's values are lookups instead of a Python expression each. Indexed by the code
    # itself: an int8 code below zero reads from the end of the table, where its value is,
    # as does the code's byte (0..255) that a raw output's picker indexes with.
    signed = _BYTE_CODES[dtype]
    return tuple(((i - 256 if signed and i > 127 else i) - zero) * scale for i in range(256))


def top(values: tuple[float, ...], indices: tuple[int, ...] | None) -> tuple[int | None, float | None]:
    """(output index, value) of the largest value; the first one on ties."""
    if not values:
        return None, None
    best = values.index(max(values))  # the first largest, as max() keeps the first of equals
    return (indices[best] if indices is not None else best), values[best]
