"""Fixtures for meter tests: the bundled gesture model for a virtual board to run."""

from __future__ import annotations

import pytest

from fleet.models.bundled import bundled_model


@pytest.fixture(scope="session")
def gesture() -> bytes:
    return bundled_model("gesture").read_bytes()
