"""The message table's compiler (fleet.protocol.layout): a class whose fields do not all
declare a wire type, or whose trailing field is not last, is refused when it is defined,
and every encoder path checks fixed-size fields."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from fleet.errors import MalformedMessage
from fleet.protocol import InferResult, ModelBegin
from fleet.protocol.layout import Table
from fleet.protocol.wire import blob, u8


def test_a_field_without_a_wire_type_is_refused_naming_it():
    with pytest.raises(TypeError, match=r"Bad\.count: annotate the field with exactly one wire type"):

        @dataclass(frozen=True, slots=True)
        class Bad(Table):
            flag: u8
            count: int


def test_a_rest_field_must_be_last():
    with pytest.raises(TypeError, match="a Rest field must be the last one"):

        @dataclass(frozen=True, slots=True)
        class Bad(Table):
            data: blob
            flag: u8


@pytest.mark.parametrize(
    ("msg", "match"),
    [
        (InferResult(1, 2, 3, 4, b"abc", 9, 0, 0.5, -3, b""), "InferResult: model prefix must be 4 bytes, got 3"),
        (ModelBegin(0, 10, bytes(31)), "ModelBegin: sha256 must be 32 bytes, got 31"),
    ],
)
def test_fixed_size_fields_are_checked_on_every_encoder(msg, match):
    # InferResult has the compiled straight-line encoder, ModelBegin the general one.
    with pytest.raises(MalformedMessage, match=match):
        msg.encode()


def test_layouts_know_their_fixed_head():
    assert InferResult.WIRE.head_size == 34  # the C side's FW_INFER_RESULT_HEAD
    assert ModelBegin.WIRE.head_size == 37
