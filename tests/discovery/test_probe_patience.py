"""A probe (`fleet scan`, the manager's discovery, a deploy finding its board again) waits
for HELLO as long as a session's request does: a board that answers late is a board.

The C firmware reads its UART between inferences, so a board streaming results of a model
that takes a second per inference answers HELLO up to a second late; so does a board behind
a loaded host's ser2net. Reported as `no answer` ("not a fleet board"), it was misreported."""

from __future__ import annotations

from tests.support.sim import require_sim

require_sim()  # runs a virtual board

from fleet.config import FleetConfig  # noqa: E402
from fleet.discovery import Candidate, probe  # noqa: E402
from fleet.sim.farm import FarmConfig, SimFarm  # noqa: E402
from fleet.sim.virtual_board import LinkConfig  # noqa: E402


async def test_a_board_answering_a_second_late_is_found_with_the_default_settings():
    # 1.2 s: past both of the 0.5 s tries probes used to give a HELLO (an answer to the
    # first comes after the second try has given up too), within one request_timeout_s.
    config = FleetConfig()
    late = LinkConfig(baud=None, turnaround_us=1_200_000)
    async with SimFarm(FarmConfig(boards=1, seed=3, link=late)) as farm:
        board = farm.boards[0]
        result = await probe(Candidate(board.port, "virtual", 115200), config)
    assert (result.status, result.uid) == ("ok", board.uid), result.error
