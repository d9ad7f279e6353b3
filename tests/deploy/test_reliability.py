"""A short seeded reliability run: noisy lines, unplugs, resets, `kill -9` of `fleet deploy`
and a `fleet monitor` alongside; what fleet reports about every board is what its flash holds.

The long run (200 deploys) is `python tools/reliability_deploy.py --deploys 200 --seed 1`.
"""

import pytest

from tools.reliability_deploy import run


@pytest.mark.slow
async def test_reports_equal_flash_state_under_faults_kills_and_a_monitor(sine, gesture):
    # run() holds every board's flash against what each `fleet deploy` said, after every run.
    report = await run(deploys=20, seed=2, boards=4, ber=1e-4, unplug_every=6.0, reset_every=6.0, kill_rate=0.4,
                       monitor_rate=0.5, models=(sine, gesture))  # fmt: skip
    assert report.deploys >= 20
    assert report.unplugs + report.resets > 0, "the run injected no faults: it proves nothing"
    assert report.kills >= 1 and report.monitors >= 1, report
    assert report.outcomes["confirmed"] >= 4, report.outcomes
