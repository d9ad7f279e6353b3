"""A bench cancelled (Ctrl-C) in the loop step a board's event arrives ends cancelled, in
whichever step after it the cancellation lands (tests/support/steps.py).

Before, `asyncio.wait_for` (Python 3.11) returned and dropped the cancellation, and the
bench went on waiting for its boards' results until its timeout."""

from __future__ import annotations

import asyncio

import pytest

from fleet.bench.collector import BoardCollector
from fleet.bench.run import _wait_done
from tests.support.steps import STEPS, CancelOnSet, Canceller


@pytest.mark.parametrize("steps", STEPS)
async def test_a_bench_cancelled_as_an_event_arrives_ends_cancelled(steps):
    collector = BoardCollector("b", "01", "fe1faa9d", inferences=10, warmup=0)
    collector.arm()  # measuring: the bench waits for its results
    canceller = Canceller(steps)
    changed = CancelOnSet(canceller)
    canceller.victim = asyncio.create_task(_wait_done([collector], changed, 3600.0))
    await asyncio.sleep(0)
    changed.set()  # a result came in (not the last one), and so did Ctrl-C
    assert (await canceller.outcome()).cancelled() or steps > 0
