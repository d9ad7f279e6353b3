"""Decoding INFER_RESULT outputs: raw tensors and top-k entries, dequantized."""

import struct

import pytest

from fleet.errors import MalformedMessage
from fleet.protocol import InferResult, OutputFormat
from fleet.telemetry.outputs import decode_output, top


def _result(dtype: int, fmt: int, scale: float, zero: int, data: bytes) -> InferResult:
    return InferResult(1, 2, 3, 4, b"\x01\x02\x03\x04", dtype, fmt, scale, zero, data)


def test_raw_int8_is_dequantized_with_scale_and_zero_point():
    msg = _result(9, OutputFormat.RAW, 0.00390625, -128, struct.pack("<4b", -128, 127, 0, -1))
    dtype, values, indices = decode_output(msg)
    assert dtype == "int8"
    assert values == ((-128 + 128) * 0.00390625, (127 + 128) * 0.00390625, 128 * 0.00390625, 127 * 0.00390625)
    assert indices is None
    assert top(values, indices) == (1, 255 * 0.00390625)


def test_float_outputs_pass_through():
    msg = _result(0, OutputFormat.RAW, 0.0, 0, struct.pack("<2f", 0.5, -2.25))
    assert decode_output(msg) == ("float32", (0.5, -2.25), None)


def test_topk_entries_carry_their_indices():
    data = struct.pack("<Hb", 3, 100) + struct.pack("<Hb", 0, 20)
    msg = _result(9, OutputFormat.TOPK, 0.5, 0, data)
    dtype, values, indices = decode_output(msg)
    assert (values, indices) == ((50.0, 10.0), (3, 0))
    assert top(values, indices) == (3, 50.0)


def test_uint8_and_int16():
    assert decode_output(_result(3, 0, 1.0, 10, bytes([10, 255])))[1] == (0.0, 245.0)
    assert decode_output(_result(7, 0, 0.5, 0, struct.pack("<h", -300)))[1] == (-150.0,)


def test_ragged_data_and_unknown_types_are_malformed():
    with pytest.raises(MalformedMessage, match="whole number"):
        decode_output(_result(0, 0, 0.0, 0, b"\x00\x00\x00"))
    with pytest.raises(MalformedMessage, match="type code 99"):
        decode_output(_result(99, 0, 0.0, 0, b""))


def test_top_of_nothing():
    assert top((), None) == (None, None)


@pytest.mark.parametrize("dtype, code", [(9, "b"), (3, "B")], ids=["int8", "uint8"])
def test_8_bit_raw_outputs_of_every_picked_size_equal_the_formula(dtype, code):
    # Up to 64 values a picker compiled per size reads them; beyond, the table is mapped.
    for count in (0, 1, 2, 4, 10, 63, 64, 65, 200):
        codes = [(i * 37) % 256 - (128 if dtype == 9 else 0) for i in range(count)]
        msg = _result(dtype, 0, 0.0390625, 7, struct.pack(f"<{count}{code}", *codes))
        assert decode_output(msg) == ("int8" if dtype == 9 else "uint8", tuple((q - 7) * 0.0390625 for q in codes), None)


def test_decoders_are_kept_per_shape_and_quantization_and_bounded():
    from fleet.telemetry import outputs

    outputs._DECODERS.clear()
    nan = float("nan")
    for _ in range(3):  # a NaN scale never finds its key again: not kept, decoded all the same
        assert decode_output(_result(9, 0, nan, 0, b"\x01\x02"))[0] == "int8"
    assert not outputs._DECODERS
    for zero in range(outputs._MAX_DECODERS * 3):  # a board that changes its quantization every result
        _, values, _ = decode_output(_result(9, 0, 0.5, zero, b"\x04\x02"))
        assert values == ((4 - zero) * 0.5, (2 - zero) * 0.5)
        assert len(outputs._DECODERS) <= outputs._MAX_DECODERS
