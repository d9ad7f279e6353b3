"""Fixtures for virtual-board tests: engines on a fake clock (the models come from tests/support/models.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.sim import require_sim

require_sim()  # every test here runs virtual boards

from fleet.sim.factory import make_engine  # noqa: E402
from fleet.sim.clock import FakeClock  # noqa: E402
from tests.support.hosts import EngineHost  # noqa: E402


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
