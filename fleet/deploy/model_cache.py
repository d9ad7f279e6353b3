"""The models this host has deployed, by sha256: the bases of delta uploads.

A board reports the sha256 of each slot's model in INFO; when this cache holds those bytes,
the next upload can be sent as copies from the board's other slot plus what changed
(PROTOCOL.md section 10). Files are `<sha256>.tflite` in `$FLEET_CACHE_DIR/models` and are
checked against their name when read, so a damaged file only costs the delta, never a wrong
base. The newest `KEEP` models are kept.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from fleet.models.host_tflm import cache_dir

log = logging.getLogger(__name__)

KEEP = 16


class ModelCache:
    """Content-addressed model bytes on disk."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or cache_dir() / "models"

    def put(self, data: bytes) -> None:
        """Remember `data`; a cache that cannot be written only costs future deltas."""
        path = self._path(hashlib.sha256(data).digest())
        try:
            if path.exists():
                os.utime(path)  # the newest are kept
                return
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
            self._prune()
        except OSError as exc:
            log.warning("model cache %s not written: %s", self.directory, exc)

    def get(self, sha256: bytes) -> bytes | None:
        """The model with this hash, or None when it is not here (or its file is damaged)."""
        try:
            data = self._path(sha256).read_bytes()
        except OSError:
            return None
        return data if hashlib.sha256(data).digest() == sha256 else None

    def _path(self, sha256: bytes) -> Path:
        return self.directory / f"{sha256.hex()}.tflite"

    def _prune(self) -> None:
        files = sorted(self.directory.glob("*.tflite"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[KEEP:]:
            old.unlink(missing_ok=True)
