"""Manifest validation: names the file and field; sha256 must match the model."""

from __future__ import annotations

import json

import pytest

from fleet.errors import ConfigError, ManifestMismatch
from fleet.models.bundled import bundled_model
from fleet.models.inspect import inspect_model
from fleet.models.manifest import Manifest, load_manifest, load_manifest_for, manifest_path, write_manifest


@pytest.fixture
def hello(tmp_path):
    # The bundled sine, copied without its manifest.
    data = bundled_model("sine").read_bytes()
    path = tmp_path / "hello.tflite"
    path.write_bytes(data)
    return path, inspect_model(data)


def test_round_trip(hello) -> None:
    path, info = hello
    manifest = Manifest.describe(info, name="hello", version="1.0.0", description="sine")
    assert write_manifest(manifest, path) == manifest_path(path) == path.with_suffix(".json")
    assert load_manifest_for(path) == manifest
    assert manifest.input.scale == pytest.approx(0.024571197107434273)


def test_no_manifest(hello) -> None:
    assert load_manifest_for(hello[0]) is None


def test_sha256_must_match(hello) -> None:
    path, info = hello
    write_manifest(Manifest.describe(info, name="hello", version="1"), path)
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ManifestMismatch, match=r"hello\.json .*sha256"):
        load_manifest_for(path)


def test_label_count_must_match_outputs(hello) -> None:
    with pytest.raises(ManifestMismatch, match="2 labels for 1 output values"):
        Manifest.describe(hello[1], name="hello", version="1", labels=["a", "b"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sha256": "xyz"}, "sha256"),
        ({"name": ""}, "name"),
        ({"name": "n" * 33}, "name"),
        ({"labels": ["a", "a"]}, "labels"),
        ({"surprise": 1}, "surprise"),
        ({"input": {"shape": [1], "dtype": "int8", "zp": 0}}, "input.zp"),
    ],
)
def test_invalid_fields_are_named(hello, change: dict, field: str) -> None:
    path, info = hello
    raw = json.loads(Manifest.describe(info, name="hello", version="1").model_dump_json())
    raw.update(change)
    manifest_path(path).write_text(json.dumps(raw))
    with pytest.raises(ConfigError) as caught:
        load_manifest(manifest_path(path))
    assert str(manifest_path(path)) in str(caught.value)
    assert f"field '{field}'" in str(caught.value)


def test_not_json(tmp_path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text("name = 'x'")
    with pytest.raises(ConfigError, match=r"m\.json: manifest is not valid JSON"):
        load_manifest(bad)
