"""Fixtures for the model toolkit tests.

The public example models live outside the repository, in ../shared/models next to it;
tests that need them skip (saying so) where that folder is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_MODELS = REPO_ROOT.parent / "shared" / "models"


@pytest.fixture(scope="session", autouse=True)
def _fleet_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Arena measurements are cached on disk; keep the tests' cache out of the user's home
    # but share it across the session, so each model is measured once.
    os.environ["FLEET_CACHE_DIR"] = str(tmp_path_factory.mktemp("fleet-cache"))


def shared_model_path(name: str) -> Path:
    path = SHARED_MODELS / name
    if not path.is_file():
        pytest.skip(f"example model {name} not found in {SHARED_MODELS} (the shared models folder is absent)")
    return path


@pytest.fixture
def shared_model():
    """Returns a function giving the bytes of a model in ../shared/models, or skipping the test."""
    return lambda name: shared_model_path(name).read_bytes()


@pytest.fixture(scope="session")
def built_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding `fleet model build sine` and `gesture` outputs, built as a user would."""
    pytest.importorskip("tensorflow", reason="needs the TensorFlow extra (fleet[tf])")
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("built")
    for name in ("sine", "gesture"):
        subprocess.run(
            [sys.executable, "-m", "fleet", "model", "build", name, "--out", str(out), "--json"],
            check=True,
            cwd=REPO_ROOT,
            capture_output=True,
        )
    return out
