"""TflmRunner: runs the bundled models (and hello_world where ../shared has it), refuses a
too-small arena before TFLM can crash."""

from __future__ import annotations

import itertools

from tests.support.sim import require_sim

require_sim()  # runs models with TFLite Micro

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fleet.errors import ArenaTooSmall, ModelError  # noqa: E402
from fleet.models.bundled import bundled_model  # noqa: E402
from fleet.models.inputs import input_stream  # noqa: E402
from fleet.models.tflm_runner import TflmRunner  # noqa: E402


@pytest.mark.parametrize("name", ["sine", "hello_world_int8.tflite"])
def test_follows_the_sine(shared_model, name: str) -> None:
    data = bundled_model(name).read_bytes() if name == "sine" else shared_model(name)
    runner = TflmRunner(data, arena_size=4096)
    out_spec = runner.output
    errors = []
    for _, x in itertools.islice(input_stream(runner.info, 0), 64):
        y = (float(runner.run(x)[0, 0]) - out_spec.zero_point) * out_spec.scale
        real_x = (float(x[0, 0]) - runner.input.zero_point) * runner.input.scale
        errors.append(abs(y - np.sin(real_x)))
    assert max(errors) < 0.2


def test_exact_arena_is_enough_one_byte_less_is_refused() -> None:
    data = bundled_model("gesture").read_bytes()
    TflmRunner(data, arena_size=3152)
    with pytest.raises(ArenaTooSmall, match="needs a 3152-byte tensor arena, only 3151 bytes given") as caught:
        TflmRunner(data, arena_size=3151)
    assert (caught.value.needed, caught.value.given) == (3152, 3151)


def test_wrong_input_is_a_model_error() -> None:
    runner = TflmRunner(bundled_model("sine").read_bytes(), arena_size=4096)
    with pytest.raises(ModelError, match=r"takes int8\[1, 1\], got float64\[1\]"):
        runner.run(np.zeros(1))
    with pytest.raises(ModelError, match="takes 1 inputs, 2 given"):
        runner.run(np.zeros((1, 1), np.int8), np.zeros((1, 1), np.int8))
