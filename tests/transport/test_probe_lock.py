"""A discovery probe holds a board for one HELLO: others wait it out instead of calling the
board busy; a process that drives the board is reported at once, with its name."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fleet.errors import PortBusy
from fleet.sim.farm import FarmConfig, SimFarm
from fleet.transport.lock import PROBE, holder_of
from fleet.transport.serial import open_transport

HOLD = """
import sys, time
from fleet.transport.lock import BoardLock
lock = BoardLock(sys.argv[1], purpose=sys.argv[2]).acquire()
print("held", flush=True)
time.sleep(float(sys.argv[3]))
lock.release()
time.sleep(60)
"""

pytestmark = pytest.mark.asyncio


@pytest.fixture(autouse=True)
def locks(tmp_path, monkeypatch):
    monkeypatch.setenv("FLEET_LOCK_DIR", str(tmp_path / "locks"))


@pytest.fixture
def holder():
    procs: list[subprocess.Popen] = []

    def start(port: str, purpose: str, seconds: float) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", HOLD, port, purpose, str(seconds)], stdout=subprocess.PIPE,
                                text=True)  # fmt: skip
        procs.append(proc)
        assert proc.stdout.readline().strip() == "held"
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(10)


async def test_a_probes_lock_is_waited_out(holder):
    async with SimFarm(FarmConfig(boards=1, seed=4)) as farm:
        port = farm.boards[0].port
        prober = holder(port, PROBE, 0.5)
        assert holder_of(port).purpose == PROBE
        transport = await open_transport(port)  # waits the half second, then takes it
        try:
            assert holder_of(port) is not None and holder_of(port).pid != prober.pid
        finally:
            await transport.close()


async def test_a_driving_process_is_reported_at_once_with_its_holder(holder):
    async with SimFarm(FarmConfig(boards=1, seed=4)) as farm:
        port = farm.boards[0].port
        driver = holder(port, "", 60)
        with pytest.raises(PortBusy) as info:
            await open_transport(port, purpose=PROBE)
        assert info.value.holder.pid == driver.pid and info.value.holder.purpose == ""
        assert f"held by pid {driver.pid}" in str(info.value)
