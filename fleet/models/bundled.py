"""The example models that ship inside fleet (`fleet/models/examples/`), with manifests.

They let demos, virtual boards and tests run without TensorFlow; `fleet model build`
rebuilds them (see docs/models.md).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fleet.errors import ModelError
from fleet.models.manifest import Manifest, load_manifest

EXAMPLES_DIR = Path(__file__).parent / "examples"


def bundled_model(name: str) -> Path:
    """Path of the bundled `<name>.tflite`; `ModelError` naming the ones there are otherwise."""
    path = EXAMPLES_DIR / f"{name}.tflite"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in EXAMPLES_DIR.glob("*.tflite"))) or "none"
        raise ModelError(f"no bundled example model {name!r}; bundled: {known}")
    return path


def find_bundled_manifest(sha256: str) -> Manifest | None:
    """The manifest of the bundled model with this sha256 (hex), if one ships with fleet."""
    return _manifests_by_hash().get(sha256)


@cache
def _manifests_by_hash() -> dict[str, Manifest]:
    manifests = (load_manifest(path) for path in sorted(EXAMPLES_DIR.glob("*.json")))
    return {manifest.sha256: manifest for manifest in manifests}
