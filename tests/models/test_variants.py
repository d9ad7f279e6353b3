"""Model variants for delta uploads: each one still parses, and changes only what it says."""

from __future__ import annotations

import pytest

from fleet.errors import ModelError
from fleet.models.bundled import bundled_model
from fleet.models.inspect import inspect_model
from fleet.models.variants import change_description, requantize_tensor, retrain_last_layer


def _changed(a: bytes, b: bytes) -> int:
    assert len(a) == len(b)
    return sum(x != y for x, y in zip(a, b, strict=True))


def test_variants_of_sine_parse_and_differ_a_little() -> None:
    sine = bundled_model("sine").read_bytes()
    for variant in (retrain_last_layer(sine), change_description(sine), requantize_tensor(sine)):
        info = inspect_model(variant)
        assert info.ops == inspect_model(sine).ops
        assert 0 < _changed(sine, variant) < len(sine) // 4


def test_change_description_touches_only_the_description() -> None:
    sine = bundled_model("sine").read_bytes()
    new = change_description(sine, "release 2")
    assert inspect_model(new).description.startswith("release 2")
    assert _changed(sine, new) <= len(inspect_model(sine).description)


def test_a_broken_model_is_a_model_error() -> None:
    gesture = bundled_model("gesture").read_bytes()
    with pytest.raises(ModelError):
        change_description(gesture[:64] + bytes(len(gesture) - 64))
