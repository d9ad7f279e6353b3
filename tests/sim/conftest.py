"""Fixtures for virtual-board tests: the bundled example models, flash directories, engines on a fake clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.models.bundled import bundled_model
from fleet.sim.factory import make_engine
from fleet.sim.clock import FakeClock
from tests.sim.helpers import EngineHost



@pytest.fixture(scope="session")
def sine() -> bytes:
    """The bundled sine regression: int8 [1,1] -> int8 [1,1], FULLY_CONNECTED x3, 288 MACs, 3568 B, arena 2192 B."""
    return bundled_model("sine").read_bytes()


@pytest.fixture(scope="session")
def gesture() -> bytes:
    """The bundled gesture classifier: int8 [1,32,3] -> int8 [1,4] (softmax), 4544 MACs, 5552 B, arena 3152 B."""
    return bundled_model("gesture").read_bytes()


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
