"""Fixtures every test folder shares."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _fleet_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Arena measurements are cached on disk by sha256: one cache per test session, out of
    # the user's home, shared by every test so each model is measured once.
    os.environ["FLEET_CACHE_DIR"] = str(tmp_path_factory.mktemp("fleet-cache"))
