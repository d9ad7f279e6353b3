"""TflmRunner: runs example models, refuses a too-small arena before TFLM can crash."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fleet.errors import ArenaTooSmall, ModelError
from fleet.models.inputs import input_stream
from fleet.models.runner import TflmRunner


def test_hello_world_follows_the_sine(shared_model) -> None:
    runner = TflmRunner(shared_model("hello_world_int8.tflite"), arena_size=4096)
    out_spec = runner.output
    errors = []
    for _, x in itertools.islice(input_stream(runner.info, 0), 64):
        y = (float(runner.run(x)[0, 0]) - out_spec.zero_point) * out_spec.scale
        real_x = (float(x[0, 0]) - runner.input.zero_point) * runner.input.scale
        errors.append(abs(y - np.sin(real_x)))
    assert max(errors) < 0.2


def test_exact_arena_is_enough_one_byte_less_is_refused(shared_model) -> None:
    data = shared_model("micro_speech_quantized.tflite")
    TflmRunner(data, arena_size=7584)
    with pytest.raises(ArenaTooSmall, match="needs a 7584-byte tensor arena, only 7583 bytes given") as caught:
        TflmRunner(data, arena_size=7583)
    assert (caught.value.needed, caught.value.given) == (7584, 7583)


def test_wrong_input_is_a_model_error(shared_model) -> None:
    runner = TflmRunner(shared_model("hello_world_int8.tflite"), arena_size=4096)
    with pytest.raises(ModelError, match=r"takes int8\[1, 1\], got float64\[1\]"):
        runner.run(np.zeros(1))
    with pytest.raises(ModelError, match="takes 1 inputs, 2 given"):
        runner.run(np.zeros((1, 1), np.int8), np.zeros((1, 1), np.int8))
