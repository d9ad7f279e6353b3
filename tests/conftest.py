"""Fixtures every test folder shares."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _fleet_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Arena measurements are cached on disk by sha256: one cache per test session, out of
    # the user's home, shared by every test so each model is measured once.
    os.environ["FLEET_CACHE_DIR"] = str(tmp_path_factory.mktemp("fleet-cache"))


@pytest.fixture(scope="session", autouse=True)
def _fleet_locks(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Port locks of this test session only: a fleet process left by hand (or by another
    # test session) holding /dev/pts/N must not make a test's new board on a reused
    # /dev/pts/N look busy.
    os.environ["FLEET_LOCK_DIR"] = str(tmp_path_factory.mktemp("fleet-locks"))
