"""`fleet model` as a user runs it: output, JSON, exit codes, error messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.sim import require_sim

require_sim()  # runs virtual boards or models

from fleet.cli.main import main  # noqa: E402
from fleet.models.bundled import bundled_model  # noqa: E402

from tests.shared_models import shared_model_path  # noqa: E402

from .conftest import REPO_ROOT  # noqa: E402


def _fleet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fleet", *args], capture_output=True, text=True, cwd=REPO_ROOT, env=dict(os.environ)
    )


def test_inspect_as_a_subprocess() -> None:
    path = bundled_model("sine")
    done = _fleet("model", "inspect", str(path))
    assert done.returncode == 0, done.stderr
    assert "operators: FULLY_CONNECTED x3" in done.stdout
    assert "input: serving_default_x:0 int8[1, 1] scale 0.0245712 zero point -128" in done.stdout
    assert "MACs per inference: 288" in done.stdout
    assert "tensor arena (measured in the TFLM host interpreter): 2192 B" in done.stdout
    assert "pico            3568/524288   2192/163840  ok   yes" in done.stdout


def test_inspect_json_is_one_document(capsys) -> None:
    path = bundled_model("gesture")
    assert main(["model", "inspect", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["arena_bytes"] == 3152
    assert report["ops"] == {"RESHAPE": 2, "CONV_2D": 1, "AVERAGE_POOL_2D": 1, "FULLY_CONNECTED": 2, "SOFTMAX": 1}
    assert report["outputs"][0]["shape"] == [1, 4]
    assert [f["board"] for f in report["fits"]] == ["nano33ble", "esp32s3", "pico", "stm32f746disco"]
    assert all(f["ok"] for f in report["fits"])


def test_profile_that_does_not_fit_exits_1(tmp_path, capsys) -> None:
    # sine padded to one byte more than pico's model slot (flatbuffers ignore the tail).
    path = tmp_path / "big.tflite"
    path.write_bytes(bundled_model("sine").read_bytes().ljust(524_288 + 1, b"\0"))
    assert main(["model", "inspect", str(path), "--profile", "pico"]) == 1
    out = capsys.readouterr().out
    assert "pico: does not fit Raspberry Pi Pico (pico): model 524289 B exceeds the 524288 B model slot" in out


def test_custom_ops_a_profile_lacks_are_named(capsys) -> None:
    path = shared_model_path("audio_preprocessor_int8.tflite")  # the one example with custom ops
    assert main(["model", "inspect", str(path), "--profile", "pico"]) == 1
    out = capsys.readouterr().out
    assert "pico: does not fit Raspberry Pi Pico (pico): unsupported operators: SignalWindow" in out


def test_unknown_profile_is_a_usage_error(capsys) -> None:
    path = bundled_model("sine")
    assert main(["model", "inspect", str(path), "--profile", "uno"]) == 2
    assert "fleet: error: unknown board profile 'uno'" in capsys.readouterr().err


def _bad_files(tmp: Path) -> dict[str, Path]:
    real = bundled_model("sine").read_bytes()
    files = {
        "empty.tflite": b"",
        "random.tflite": bytes(range(256)) * 4,
        "truncated.tflite": real[:1000],
        "manifest.tflite": json.dumps({"name": "hello", "version": "1"}).encode(),
    }
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    return {name: tmp / name for name in files}


@pytest.mark.parametrize("name", ["empty.tflite", "random.tflite", "truncated.tflite", "manifest.tflite"])
def test_bad_files_fail_cleanly(tmp_path, capsys, name: str) -> None:
    path = _bad_files(tmp_path)[name]
    assert main(["model", "inspect", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    expected = "malformed TFLite model" if name == "truncated.tflite" else "not a TFLite model"
    assert captured.err.startswith(f"fleet: error: {path}: {expected}")


def test_bad_file_as_a_subprocess(tmp_path) -> None:
    path = _bad_files(tmp_path)["truncated.tflite"]
    done = _fleet("model", "inspect", str(path))
    assert done.returncode == 1
    assert done.stderr.startswith(f"fleet: error: {path}: malformed TFLite model: ")
    assert "Traceback" not in done.stderr


def test_model_without_subcommand_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["model"])
    assert caught.value.code == 2


def test_build_unknown_name_is_a_usage_error(tmp_path, capsys) -> None:
    # Rejected before TensorFlow is needed, so this runs without the tf extra too.
    assert main(["model", "build", "cat-detector", "--out", str(tmp_path)]) == 2
    assert "unknown example model 'cat-detector'; known: gesture, sine" in capsys.readouterr().err


def test_inspect_shows_the_manifest(capsys) -> None:
    assert main(["model", "inspect", str(bundled_model("gesture"))]) == 0
    out = capsys.readouterr().out
    assert "manifest: gesture 1.0.0, labels: idle, wave, tap, circle" in out
    assert "tensor arena (measured in the TFLM host interpreter): 3152 B" in out


def test_inspect_refuses_a_manifest_for_another_model(tmp_path, capsys) -> None:
    model = tmp_path / "gesture.tflite"
    model.write_bytes(bundled_model("sine").read_bytes())
    (tmp_path / "gesture.json").write_text(bundled_model("gesture").with_suffix(".json").read_text())
    assert main(["model", "inspect", str(model)]) == 1
    err = capsys.readouterr().err
    assert "does not describe model 'gesture': sha256 is fe1faa9db199…, the model's is 6588794baa16…" in err


def test_inspect_of_a_bit_flipped_model_says_why_the_arena_is_not_measured(tmp_path, capsys) -> None:
    data = bytearray(bundled_model("sine").read_bytes())
    data[93] ^= 1 << 5  # an offset 8 KiB past the end, that only TFLM's reader follows
    path = tmp_path / "flipped.tflite"
    path.write_bytes(bytes(data))
    assert main(["model", "inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"tensor arena: not measured: {path}: the TFLM host interpreter cannot read this model: " in out
    assert "unpack_from requires" in out


def test_deploy_of_a_bit_flipped_model_names_the_file_and_the_reason(tmp_path) -> None:
    from fleet.deploy.model_file import load_model_file
    from fleet.errors import ModelError

    data = bytearray(bundled_model("sine").read_bytes())
    data[93] ^= 1 << 5
    path = tmp_path / "flipped.tflite"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=rf"^{path}: the TFLM host interpreter cannot read this model: .*unpack_from"):
        load_model_file(path)
