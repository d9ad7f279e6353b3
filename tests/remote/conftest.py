"""Fixtures for boards beyond one host: a virtual board exported by ser2net, a broker."""

from __future__ import annotations

import os

import pytest

from tests.remote.daemons import Mosquitto, Ser2Net, Sim, missing


@pytest.fixture
def env(tmp_path):
    """Environment of the fleet commands a test runs: its own lock dir, no registry, no devices.toml."""
    clean = {k: v for k, v in os.environ.items() if k not in ("FLEET_CONFIG", "FLEET_SIM_REGISTRY")}
    return clean | {"FLEET_LOCK_DIR": str(tmp_path / "locks"), "FLEET_SIM_REGISTRY": str(tmp_path / "no-registry"),
                    "FLEET_CACHE_DIR": str(tmp_path / "cache")}  # fmt: skip


@pytest.fixture
def remote_board(tmp_path, request):
    """A virtual board on a PTY exported by ser2net over RFC2217; yields (sim, ser2net).

    The baud (default 115200) comes from `@pytest.mark.parametrize("remote_board", [N], indirect=True)`."""
    if reason := missing("ser2net"):
        pytest.skip(reason)
    baud = getattr(request, "param", 115200)
    # Blank, as these tests were written for; a streaming board would also fill the pipe of a
    # monitor whose stdout a test stops reading, and a blocked monitor does not see SIGTERM.
    sim = Sim(tmp_path, baud, "--no-model")
    daemon = Ser2Net(tmp_path, sim.port, baud)
    try:
        daemon.start()
        yield sim, daemon
    finally:
        daemon.stop()
        sim.stop()


@pytest.fixture
def mosquitto(tmp_path):
    if reason := missing("mosquitto"):
        pytest.skip(reason)
    broker = Mosquitto(tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
