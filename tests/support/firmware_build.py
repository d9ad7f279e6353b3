"""The firmware build that runs beside the Python tests (tools/test.sh).

Building TFLM twice (host and Cortex-M4) is most of CI's CPU time, and the Python tests
mostly wait on pseudo-terminals. So tools/test.sh starts tools/build_firmware.sh in the
background at idle priority and names a status file in FLEET_FIRMWARE_BUILD_STATUS
("running" until the build ends, then its exit code). The tests that drive firmware are run
last, and the first of them waits for the build here, outside pytest-timeout's per-test
budget (the build may take many minutes); the tests then find every image built. Without
that variable (pytest run by hand) nothing waits: those tests build what they need on demand.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

# Folders whose tests build or drive firmware images.
FIRMWARE_FOLDERS = ("tests/firmware/", "tests/behaviour/")
STATUS_ENV = "FLEET_FIRMWARE_BUILD_STATUS"
# A build that is still "running" after this long has hung: the tests then go on and
# rebuild what they need themselves, under their own timeouts.
WAIT_LIMIT_S = 45 * 60


def needs_firmware(item: pytest.Item) -> bool:
    """Whether a test builds or drives firmware images."""
    path = item.nodeid.split("::", 1)[0]
    return path.startswith(FIRMWARE_FOLDERS)


def firmware_last(items: list[pytest.Item]) -> None:
    """Reorders `items` in place: every firmware test after every other one, each group in
    its collected order."""
    items.sort(key=needs_firmware)  # stable: keeps the collected order inside each group


def wait_for_build(terminal: object | None = None) -> str:
    """Blocks until the background firmware build has ended; returns its status ("0" on
    success, "" when no background build was started, "unfinished" when it ran past the
    limit)."""
    status_file = os.environ.get(STATUS_ENV)
    if not status_file:
        return ""
    path = Path(status_file)
    start = time.monotonic()
    told = False
    while True:
        status = path.read_text().strip() if path.exists() else "running"
        if status != "running":
            return status
        if time.monotonic() - start > WAIT_LIMIT_S:
            return "unfinished"
        if not told and terminal is not None:
            terminal.write_line(f"waiting for the background firmware build ({path.parent / 'build_firmware.log'})")
            told = True
        time.sleep(1)
