"""A discovery probe holds a board for one HELLO: others wait it out instead of calling the
board busy; a process that drives the board is reported at once, with its name."""

from __future__ import annotations

import pytest

from tests.support.sim import require_sim

require_sim()  # runs virtual boards

from fleet.errors import PortBusy  # noqa: E402
from fleet.sim.farm import FarmConfig, SimFarm  # noqa: E402
from fleet.transport.lock import PROBE, holder_of  # noqa: E402
from fleet.transport.serial import open_transport  # noqa: E402



@pytest.fixture(autouse=True)
def locks(tmp_path, monkeypatch):
    monkeypatch.setenv("FLEET_LOCK_DIR", str(tmp_path / "locks"))


async def test_a_probes_lock_is_waited_out(lock_holder):
    async with SimFarm(FarmConfig(boards=1, seed=4)) as farm:
        port = farm.boards[0].port
        prober = lock_holder(port, PROBE, 0.5)
        assert holder_of(port).purpose == PROBE
        transport = await open_transport(port)  # waits the half second, then takes it
        try:
            assert holder_of(port) is not None and holder_of(port).pid != prober.pid
        finally:
            await transport.close()


async def test_a_driving_process_is_reported_at_once_with_its_holder(lock_holder):
    async with SimFarm(FarmConfig(boards=1, seed=4)) as farm:
        port = farm.boards[0].port
        driver = lock_holder(port, "", 60)
        with pytest.raises(PortBusy) as info:
            await open_transport(port, purpose=PROBE)
        assert info.value.holder.pid == driver.pid and info.value.holder.purpose == ""
        assert f"held by pid {driver.pid}" in str(info.value)
