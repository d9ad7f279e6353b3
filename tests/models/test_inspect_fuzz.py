"""Garbage in, ModelError out: inspect_model must never raise anything else nor hang."""

from __future__ import annotations

import random

import pytest

from fleet.errors import ModelError
from fleet.models.bundled import bundled_model
from fleet.models.inspect import inspect_model


def _inspect_or_model_error(data: bytes) -> None:
    try:
        inspect_model(data)
    except ModelError:
        pass


def test_random_bytes() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        data = bytearray(rng.randbytes(rng.randrange(0, 256)))
        if len(data) >= 8 and rng.random() < 0.7:
            data[4:8] = b"TFL3"  # get past the identifier check into the parser
        _inspect_or_model_error(bytes(data))


@pytest.mark.parametrize("name", ["sine", "gesture"])
def test_every_truncation(name: str) -> None:
    data = bundled_model(name).read_bytes()
    step = max(1, len(data) // 3000)
    for end in range(0, len(data), step):
        _inspect_or_model_error(data[:end])


@pytest.mark.parametrize("name", ["sine", "gesture"])
def test_corrupted_bytes(name: str) -> None:
    data = bundled_model(name).read_bytes()
    rng = random.Random(11)
    for _ in range(1500):
        corrupt = bytearray(data)
        for _ in range(rng.randrange(1, 6)):
            # Offsets, lengths and vtables live in the first part of the file; hit them often.
            at = rng.randrange(0, min(len(data), 1024) if rng.random() < 0.7 else len(data))
            corrupt[at] = rng.randrange(256)
        _inspect_or_model_error(bytes(corrupt))
