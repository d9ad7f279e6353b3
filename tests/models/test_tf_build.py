"""`fleet model build`: reproducible, converts to full-int8, reports float vs int8 quality."""

from __future__ import annotations

import json

import pytest

from fleet.models.bundled import bundled_model
from fleet.models.inspect import inspect_model
from fleet.models.manifest import load_manifest, load_manifest_for

pytestmark = [pytest.mark.tf, pytest.mark.timeout(300)]

# The bundled gesture model was built with these; other versions may change the bytes
# (not the architecture), so bit-identity is only asserted on them.
BUILT_WITH = {"tensorflow": "2.21.0", "keras": "3.15.1"}
SINE_SHA256 = "6588794baa1621f4008a50a185d3f04c2d2144247e8fa3b0f8cbb99f17f5ec57"


def _same_versions() -> bool:
    import keras
    import tensorflow as tf

    return {"tensorflow": tf.__version__, "keras": keras.__version__} == BUILT_WITH


def test_rebuilt_gesture_is_equivalent_to_the_bundled_one(built_models) -> None:
    rebuilt = (built_models / "gesture.tflite").read_bytes()
    bundled = bundled_model("gesture").read_bytes()
    new, old = inspect_model(rebuilt), inspect_model(bundled)
    assert new.ops == old.ops
    assert [(t.shape, t.dtype) for t in new.inputs + new.outputs] == [(t.shape, t.dtype) for t in old.inputs + old.outputs]
    new_manifest = load_manifest_for(built_models / "gesture.tflite")
    old_manifest = load_manifest_for(bundled_model("gesture"))
    assert new_manifest.labels == old_manifest.labels == ["idle", "wave", "tap", "circle"]
    if _same_versions():
        assert rebuilt == bundled, "same seed and versions must give the same bytes"
        assert new_manifest == old_manifest


def test_gesture_is_full_int8_and_accurate(built_models) -> None:
    info = inspect_model((built_models / "gesture.tflite").read_bytes())
    assert [t.dtype for t in info.inputs + info.outputs] == ["int8", "int8"]
    metrics = load_manifest(built_models / "gesture.json").metrics
    assert metrics["float_accuracy"] > 0.9 and metrics["int8_accuracy"] > 0.9
    assert abs(metrics["float_accuracy"] - metrics["int8_accuracy"]) < 0.03
    if _same_versions():
        assert metrics == {"float_accuracy": 0.9725, "int8_accuracy": 0.9675}


def test_sine_follows_the_sine(built_models) -> None:
    data = (built_models / "sine.tflite").read_bytes()
    info = inspect_model(data)
    assert info.ops == {"FULLY_CONNECTED": 3}
    assert (info.inputs[0].dtype, info.inputs[0].shape) == ("int8", (1, 1))
    manifest = json.loads((built_models / "sine.json").read_text())
    assert manifest["labels"] == [] and manifest["generator"] == "sine"
    assert manifest["metrics"]["float_mae"] < 0.05 and manifest["metrics"]["int8_mae"] < 0.05
    if _same_versions():
        assert info.sha256 == SINE_SHA256
        assert manifest["metrics"] == {"float_mae": 0.0197, "int8_mae": 0.0217}
        # The bundled copy (fleet/models/examples, rebuilt with
        # `fleet model build sine --out fleet/models/examples --seed 0`) is this very build.
        assert bundled_model("sine").read_bytes() == data
