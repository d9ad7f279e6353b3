"""Fixtures for TUI tests: UTC log times (tests/support/tui.py drives the app)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _utc() -> Iterator[None]:
    # Log times are shown in local time: UTC makes snapshots the same on every machine
    # (restored after). The arena cache is set up by tests/conftest.py.
    old_tz = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old_tz is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old_tz
    time.tzset()
