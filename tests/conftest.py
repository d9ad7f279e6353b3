"""Fixtures every test folder shares."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from tests.support.firmware_build import firmware_last, needs_firmware, wait_for_build

# Fixtures every folder shares (the bundled models; `env` of the CLI in child processes),
# from their one home in tests/support.
pytest_plugins = ["tests.support.models", "tests.support.cli"]

# Another process that takes a board's lock, holds it `seconds`, then lets it go and stays
# alive. Arguments after the first three are only there to show up on its command line.
_HOLD = """
import sys, time
from fleet.transport.lock import BoardLock
lock = BoardLock(sys.argv[1], purpose=sys.argv[2]).acquire()  # kept referenced: a dropped lock releases itself
print("held", flush=True)
time.sleep(float(sys.argv[3]))
lock.release()
time.sleep(120)
"""


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


@pytest.fixture
def lock_holder() -> Iterator[Callable[..., subprocess.Popen]]:
    """Starts processes that hold a port's lock: `start(port, purpose="", seconds=120, *argv)`
    returns once the lock is held; every one is killed when the test ends."""
    procs: list[subprocess.Popen] = []

    def start(port: str, purpose: str = "", seconds: float = 120, *argv: str) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", _HOLD, port, purpose, str(seconds), *argv],
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
        procs.append(proc)
        assert proc.stdout.readline().strip() == "held"
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(10)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Firmware tests last, so the Python tests run while tools/test.sh's background
    # firmware build is still going (tests/support/firmware_build.py).
    firmware_last(items)


_BUILD_WAITED = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    # Outside pytest-timeout's wrapper: waiting for the build is not the test's time.
    if needs_firmware(item) and not item.config.stash.get(_BUILD_WAITED, False):
        item.config.stash[_BUILD_WAITED] = True
        terminal = item.config.pluginmanager.get_plugin("terminalreporter")
        status = wait_for_build(terminal)
        if status not in ("", "0") and terminal is not None:
            terminal.write_line(f"background firmware build ended with status {status}: "
                                "the firmware tests rebuild what they need and show its errors")
    yield
