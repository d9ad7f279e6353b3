"""What the probes of the TFLite Micro host interpreter share (arena sizes, operators).

They run TFLM in child processes, because it can kill its process or reports only on the
C-level stderr; the children must import this same fleet, installed or not. Results are
cached on disk per tflite-micro version in `$FLEET_CACHE_DIR` (default
`$XDG_CACHE_HOME/fleet`, else `~/.cache/fleet`).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import tempfile
from pathlib import Path

import fleet
from fleet.errors import ModelToolMissing


def tflm_version(purpose: str) -> str:
    """The installed tflite-micro version; `ModelToolMissing` saying what needed it otherwise."""
    if importlib.util.find_spec("tflite_micro") is None:
        raise ModelToolMissing(
            f"{purpose} needs the TFLite Micro host interpreter (tflite-micro)", hint="pip install 'fleet[sim]'"
        )
    return importlib.metadata.version("tflite-micro")


def child_env() -> dict[str, str]:
    """The environment for a probe child: ours, with this fleet first on the path."""
    env = dict(os.environ)
    source_root = str(Path(fleet.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source_root, env.get("PYTHONPATH")]))
    return env


def cache_dir() -> Path:
    """Where fleet caches measurements: $FLEET_CACHE_DIR, else $XDG_CACHE_HOME/fleet, else ~/.cache/fleet."""
    if override := os.environ.get("FLEET_CACHE_DIR"):
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fleet"


def write_cache(path: Path, entry: dict[str, object]) -> None:
    """Store one JSON entry; a cache we cannot write only costs measuring again."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so concurrent callers never read half a file.
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
            json.dump(entry, tmp)
        os.replace(tmp.name, path)
    except OSError:
        pass
