"""`fleet model convert`: Keras files and SavedModels to full-int8 .tflite + manifest."""

from __future__ import annotations

import json

from tests.support.sim import require_sim

require_sim()  # runs models with TFLite Micro

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fleet.cli.main import main  # noqa: E402
from fleet.models.inputs import quantize  # noqa: E402
from fleet.models.manifest import load_manifest_for  # noqa: E402
from fleet.models.tflm_runner import TflmRunner  # noqa: E402

pytestmark = [pytest.mark.tf, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def keras_sources(tmp_path_factory):
    """A small trained classifier saved as .keras and as a SavedModel, with calibration samples."""
    pytest.importorskip("tensorflow", reason="needs the TensorFlow extra (fleet[tf])")
    import keras

    from fleet.models._tf import quiet

    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)  # three classes: 0, 1, 2
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(12, activation="relu"), keras.layers.Dense(3)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=20, verbose=0)
    root = tmp_path_factory.mktemp("convert")
    model.save(root / "clf.keras")
    import io

    with quiet(io.StringIO()):
        model.export(root / "clf_saved")
    np.save(root / "calibration.npy", x[:200])
    return root, model, x


@pytest.mark.parametrize("source", ["clf.keras", "clf_saved"])
def test_convert_to_int8_with_manifest(keras_sources, capsys, source: str) -> None:
    root, model, x = keras_sources
    out = root / f"{source}-int8.tflite"
    argv = ["model", "convert", str(root / source), "--out", str(out), "--name", "clf", "--version", "2.0"]
    argv += ["--labels", "none,one,two", "--calibration", str(root / "calibration.npy"), "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    manifest = load_manifest_for(out)
    assert report["manifest"]["sha256"] == manifest.sha256
    assert (manifest.name, manifest.version, manifest.labels) == ("clf", "2.0", ["none", "one", "two"])
    assert (manifest.input.dtype, manifest.output.dtype) == ("int8", "int8")
    assert manifest.input.shape == (1, 8)
    runner = TflmRunner(out.read_bytes(), 16384)
    agree = [
        np.argmax(runner.run(quantize(sample, runner.input))) == np.argmax(expected)
        for sample, expected in zip(x[200:300], model.predict(x[200:300], verbose=0))
    ]
    assert np.mean(agree) > 0.9


def test_label_count_must_match(keras_sources, capsys) -> None:
    root, _, _ = keras_sources
    argv = ["model", "convert", str(root / "clf.keras"), "--out", str(root / "bad.tflite"), "--labels", "a,b"]
    assert main(argv + ["--calibration", str(root / "calibration.npy")]) == 1
    assert "2 labels for 3 output values" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "message"),
    [("missing.keras", "no such file"), ("model.onnx", "expected a .keras or .h5"), ("empty_dir", "not a SavedModel")],
)
def test_bad_sources(tmp_path, capsys, name: str, message: str) -> None:
    source = tmp_path / name
    if name == "empty_dir":
        source.mkdir()
    elif name.endswith(".onnx"):
        source.write_bytes(b"onnx")
    assert main(["model", "convert", str(source)]) == 1
    assert message in capsys.readouterr().err


def test_calibration_shape_must_match(keras_sources, tmp_path, capsys) -> None:
    root, _, _ = keras_sources
    np.save(tmp_path / "wrong.npy", np.zeros((10, 5), np.float32))
    argv = ["model", "convert", str(root / "clf.keras"), "--out", str(tmp_path / "m.tflite")]
    assert main(argv + ["--calibration", str(tmp_path / "wrong.npy")]) == 1
    assert "calibration samples have shape [5] each, the model input takes [8]" in capsys.readouterr().err
