"""The committed gesture classifier: consistent manifest, fits every board, live labels vary."""

from __future__ import annotations

import itertools

from tests.support.sim import require_sim

require_sim()  # runs models with TFLite Micro

import numpy as np  # noqa: E402

from fleet.models.arena import measure_arena  # noqa: E402
from fleet.models.bundled import EXAMPLES_DIR, bundled_model, find_bundled_manifest  # noqa: E402
from fleet.models.fit import check_fit  # noqa: E402
from fleet.models.inputs import input_stream  # noqa: E402
from fleet.models.inspect import inspect_model  # noqa: E402
from fleet.models.manifest import load_manifest_for  # noqa: E402
from fleet.models.tflm_runner import TflmRunner  # noqa: E402
from fleet.profiles import load_profiles  # noqa: E402

GESTURE = "gesture"


def test_manifest_matches_model() -> None:
    path = bundled_model(GESTURE)
    manifest = load_manifest_for(path)
    assert manifest is not None
    assert manifest.labels == ["idle", "wave", "tap", "circle"]
    assert manifest.generator == "gesture"
    assert find_bundled_manifest(manifest.sha256) == manifest
    assert path.stat().st_size < 8 * 1024  # small enough to keep in the repository


def test_fits_every_board_profile() -> None:
    data = bundled_model(GESTURE).read_bytes()
    info = inspect_model(data)
    assert info.ops == {"RESHAPE": 2, "CONV_2D": 1, "AVERAGE_POOL_2D": 1, "FULLY_CONNECTED": 2, "SOFTMAX": 1}
    arena = measure_arena(data)
    assert arena == 3152
    for profile in load_profiles().values():
        assert check_fit(info, arena, profile).ok


def test_live_stream_cycles_through_the_classes() -> None:
    data = bundled_model(GESTURE).read_bytes()
    runner = TflmRunner(data, 8192)
    predicted = [int(np.argmax(runner.run(x))) for _, x in itertools.islice(input_stream(runner.info, 5), 40)]
    expected = [i % 4 for i in range(40)]
    assert sum(p == e for p, e in zip(predicted, expected)) >= 36  # the model is ~97 % accurate
    assert set(predicted) == {0, 1, 2, 3}


def test_only_the_model_and_its_manifest_are_bundled() -> None:
    assert sorted(p.name for p in EXAMPLES_DIR.iterdir()) == ["gesture.json", "gesture.tflite", "sine.json", "sine.tflite"]


def test_bundled_sine_is_the_seeded_build() -> None:
    path = bundled_model("sine")
    manifest = load_manifest_for(path)
    assert manifest is not None and manifest.name == "sine" and manifest.labels == []
    assert manifest.sha256 == "6588794baa1621f4008a50a185d3f04c2d2144247e8fa3b0f8cbb99f17f5ec57"
    info = inspect_model(path.read_bytes())
    assert info.ops == {"FULLY_CONNECTED": 3}
    for profile in load_profiles().values():
        assert check_fit(info, measure_arena(path.read_bytes()), profile).ok
