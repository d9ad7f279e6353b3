"""Fixtures for telemetry tests: virtual boards on memory pipes managed by a FleetManager."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]



@pytest.fixture(scope="session")
def gesture_path() -> Path:
    from fleet.models.bundled import bundled_model

    return bundled_model("gesture")


@pytest.fixture(scope="session")
def gesture(gesture_path: Path) -> bytes:
    return gesture_path.read_bytes()
