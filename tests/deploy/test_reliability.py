"""A short seeded reliability run: noisy lines, unplugs and resets, and never a corrupt board.

The long run (100 deploys) is `python tools/reliability_deploy.py --deploys 100`.
"""

import pytest

from tools.reliability_deploy import run



@pytest.mark.slow
@pytest.mark.asyncio
async def test_no_board_ends_corrupt_under_faults(sine, gesture):
    report = await run(deploys=8, seed=11, boards=4, ber=1e-4, unplug_every=6.0, reset_every=6.0,
                       models=(sine, gesture))  # fmt: skip
    assert report.deploys == 8
    assert report.unplugs + report.resets > 0, "the run injected no faults: it proves nothing"
    # run() checks every board's flash after every deploy; here we also want most deploys to land.
    assert report.outcomes["confirmed"] >= 4, report.outcomes
