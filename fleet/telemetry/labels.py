"""Which model is running, by hash: manifests (labels) known to this host.

A board reports only the sha256, name and version of its models (and a 4-byte hash prefix
in each result). Labels come from manifests: the one beside a model file deployed or
registered through the manager, or a bundled example's (`find_bundled_manifest`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fleet.models.bundled import find_bundled_manifest
from fleet.models.manifest import Manifest, load_manifest_for


class ModelCatalog:
    """Manifests by sha256 (hex); lookups fall back to the bundled examples."""

    def __init__(self) -> None:
        self._by_sha: dict[str, Manifest] = {}
        self._misses: set[str] = set()

    def add(self, manifest: Manifest) -> None:
        self._by_sha[manifest.sha256] = manifest
        self._misses.discard(manifest.sha256)

    def add_model_file(self, path: str | Path) -> Manifest | None:
        """Register the manifest beside a `.tflite` (checked against it), if there is one."""
        manifest = load_manifest_for(path)
        if manifest is not None:
            self.add(manifest)
        return manifest

    def lookup(self, sha256: str) -> Manifest | None:
        """The manifest of the model with this sha256, if this host knows one."""
        manifest = self._by_sha.get(sha256)
        if manifest is None and sha256 not in self._misses:
            manifest = find_bundled_manifest(sha256)
            if manifest is None:
                self._misses.add(sha256)  # the bundled set does not change while we run
            else:
                self._by_sha[sha256] = manifest
        return manifest

    def labels(self, sha256: str | None) -> list[str] | None:
        manifest = self.lookup(sha256) if sha256 else None
        return manifest.labels or None if manifest else None


def resolve_labels(catalog: ModelCatalog, prefix: str, shas: Iterable[str],
                   into: dict[str, tuple[str, ...] | None]) -> tuple[str, ...] | None:  # fmt: skip
    """The output labels of the model whose sha256 (hex) starts with `prefix` (a result's
    `model`), if one of `shas` (the board's slots, from INFO) is that model: then remembered
    in `into` by prefix (None too: no manifest gives labels), until the slots change. Where
    events are ingested (the manager's `BoardIngest`, a replay), once per model; views read
    `BoardState.model_labels`."""
    for sha in shas:
        if sha.startswith(prefix):
            labels = catalog.labels(sha)
            into[prefix] = found = tuple(labels) if labels else None
            return found
    return None
