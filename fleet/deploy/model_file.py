"""A model file ready to deploy: its bytes, hash, inspection, manifest and measured arena.

Loaded once per deploy, whatever the number of boards: inspection and the arena
measurement (a child process on first sight of a model) are not repeated per board.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from fleet.deploy.upload import ModelImage
from fleet.models.arena import measure_arena
from fleet.models.inspect import ModelInfo, inspect_model, read_model_file
from fleet.models.manifest import Manifest, load_manifest_for


@dataclass(frozen=True, slots=True)
class ModelFile:
    path: Path
    data: bytes
    info: ModelInfo
    manifest: Manifest | None
    arena_bytes: int

    @property
    def sha256(self) -> bytes:
        return bytes.fromhex(self.info.sha256)

    @property
    def name(self) -> str:
        return self.manifest.name if self.manifest else self.path.stem[:32]

    @property
    def version(self) -> str:
        return self.manifest.version if self.manifest else self.info.sha256[:8]

    @property
    def image(self) -> ModelImage:
        return ModelImage(self.data, self.sha256, self.name, self.version)


def load_model_file(path: str | Path) -> ModelFile:
    """Read, inspect and measure a .tflite; ModelError naming the file if it is unusable."""
    path = Path(path)
    data = read_model_file(path)
    info = inspect_model(data, name=str(path))
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    manifest = load_manifest_for(path, data)
    return ModelFile(path, data, info, manifest, measure_arena(data, name=str(path)))
