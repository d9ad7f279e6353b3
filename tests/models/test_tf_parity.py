"""Parity of TFLM with LiteRT's reference kernels: the exact figures, model by model.

Measured with tflite-micro 0.dev20261023182759 and ai-edge-litert 2.3.0 over the first 256
inputs of `input_stream(seed=0)`; the per-channel FULLY_CONNECTED kernels round differently
and give the nonzero figures. docs/models.md lists the same table.
"""

from __future__ import annotations

import json

import pytest

from tests.support.sim import require_sim

require_sim()  # runs models with TFLite Micro

from fleet.cli.main import main  # noqa: E402
from fleet.errors import ModelError  # noqa: E402
from fleet.models.bundled import bundled_model  # noqa: E402
from fleet.models.parity import compare_with_reference  # noqa: E402

from tests.shared_models import shared_model_path  # noqa: E402

pytestmark = [pytest.mark.tf, pytest.mark.timeout(300)]
pytest.importorskip("ai_edge_litert", reason="needs ai-edge-litert (fleet[tf])")

# file -> (max |diff|, inputs of 256 whose output differed)
SHARED = {
    "hello_world_int8.tflite": (3, 32),
    "hello_world_float.tflite": (0, 0),
    "micro_speech_quantized.tflite": (1, 1),
    "person_detect.tflite": (0, 0),
}


@pytest.mark.parametrize("name", sorted(SHARED))
def test_shared_models(name: str) -> None:
    result = compare_with_reference(shared_model_path(name).read_bytes(), inputs=256, seed=0)
    assert (result.max_abs_diff, result.differing_inputs) == SHARED[name]


def test_bundled_gesture() -> None:
    result = compare_with_reference(bundled_model("gesture").read_bytes(), inputs=256, seed=0)
    assert (result.max_abs_diff, result.differing_inputs, result.integer_output) == (0, 0, True)


def test_built_sine(built_models) -> None:
    from .test_tf_build import SINE_SHA256

    data = (built_models / "sine.tflite").read_bytes()
    result = compare_with_reference(data, inputs=256, seed=0)
    if result.sha256 == SINE_SHA256:
        assert (result.max_abs_diff, result.differing_inputs) == (1, 24)
    assert result.max_abs_diff <= 3


def test_custom_ops_the_reference_lacks() -> None:
    with pytest.raises(ModelError, match="unresolved custom op: SignalWindow"):
        compare_with_reference(shared_model_path("audio_preprocessor_int8.tflite").read_bytes(), inputs=4)


def test_cli_reports_every_model(tmp_path, capsys) -> None:
    sine = bundled_model("sine")
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(sine.read_bytes()[:1000])
    assert main(["model", "parity", str(sine), str(truncated), "--json"]) == 1  # one model could not be compared
    report = json.loads(capsys.readouterr().out)
    first, second = report["models"]
    assert (first["max_abs_diff"], first["unit"], first["differing_inputs"]) == (1, "LSB", 24)
    assert "malformed TFLite model" in second["error"]
