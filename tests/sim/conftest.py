"""Fixtures for virtual-board tests: example models, flash directories, engines on a fake clock."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fleet.sim.board import make_engine
from fleet.sim.clock import FakeClock
from tests.sim.helpers import EngineHost

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_MODELS = REPO_ROOT.parent / "shared" / "models"


@pytest.fixture(scope="session", autouse=True)
def _fleet_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Arena measurements are cached on disk by sha256: one cache per session, out of $HOME.
    os.environ.setdefault("FLEET_CACHE_DIR", str(tmp_path_factory.mktemp("fleet-cache")))


def shared_model(name: str) -> bytes:
    path = SHARED_MODELS / name
    if not path.is_file():
        pytest.skip(f"example model {name} not found in {SHARED_MODELS} (the shared models folder is absent)")
    return path.read_bytes()


@pytest.fixture(scope="session")
def hello_world() -> bytes:
    return shared_model("hello_world_int8.tflite")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(5_000_000)


@pytest.fixture
def host(tmp_path: Path, clock: FakeClock) -> EngineHost:
    """A booted nano33ble engine on a fake clock, with a synchronous host attached."""
    engine = make_engine("nano33ble", tmp_path / "flash", name="test", clock=clock, seed=7)
    h = EngineHost(engine)
    h.boot()
    return h
