"""The public example models in ../shared/models (beside the repository, not in it).

Default tests use the models fleet builds and bundles; tests about a specific public model
read it from there and skip, saying why, where the folder is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_MODELS = Path(__file__).resolve().parents[1].parent / "shared" / "models"


def shared_model_path(name: str) -> Path:
    """The path of a public example model, or skip the calling test."""
    path = SHARED_MODELS / name
    if not path.is_file():
        pytest.skip(f"example model {name} not found in {SHARED_MODELS} (the shared models folder is absent)")
    return path
