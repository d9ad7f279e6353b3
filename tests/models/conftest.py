"""Fixtures for the model toolkit tests.

The public example models live outside the repository, in ../shared/models next to it;
tests that need them skip (saying so) where that folder is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shared_models import shared_model_path

REPO_ROOT = Path(__file__).resolve().parents[2]


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
