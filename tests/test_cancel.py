"""`fleet.cancel.cancel_and_wait` over several tasks: every task is told to stop and waited
for, the stopper's own cancellation is never swallowed, and a task's real failure surfaces.

Before, each stop path was `for t in tasks: with suppress(CancelledError): await t`: a
cancellation of the stopper landing meanwhile was swallowed (it ran on as if never
cancelled), and the first task that raised left the rest unwaited. Every step here is
driven explicitly (events, `sleep(0)`), never by a clock."""

from __future__ import annotations

import asyncio

import pytest

from fleet.cancel import cancel_and_wait

GUARD_S = 30  # not a timing assertion: a hang fails the test instead of the run


async def _forever() -> None:
    await asyncio.Event().wait()


async def _stops_when(release: asyncio.Event, ended: list[str], name: str) -> None:
    """Waits forever; once cancelled, needs `release` before it has stopped."""
    try:
        await asyncio.Event().wait()
    finally:
        await release.wait()
        ended.append(name)


async def _fails_when_cancelled(exc: Exception) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        raise exc


async def _ended(task: asyncio.Task[object]) -> asyncio.Task[object]:
    await asyncio.wait({task}, timeout=GUARD_S)
    assert task.done(), "the stop did not end"
    return task


async def test_a_stopper_cancelled_while_waiting_ends_cancelled():
    release, ended = asyncio.Event(), []
    tasks = [asyncio.create_task(_stops_when(release, ended, n)) for n in "ab"]
    await asyncio.sleep(0)  # both wait
    stopper = asyncio.create_task(cancel_and_wait(*tasks))
    await asyncio.sleep(0)  # the stopper has cancelled both and waits for them to end
    assert all(t.cancelling() for t in tasks) and not stopper.done()
    stopper.cancel()  # Ctrl-C, or whoever stops the stopper
    assert (await _ended(stopper)).cancelled()
    release.set()  # the tasks were told all the same and end on their own
    await asyncio.wait(tasks, timeout=GUARD_S)
    assert all(t.cancelled() for t in tasks) and sorted(ended) == ["a", "b"]


async def test_a_stopper_cancelled_in_the_step_its_tasks_end_ends_cancelled():
    release, ended = asyncio.Event(), []
    task = asyncio.create_task(_stops_when(release, ended, "a"))
    await asyncio.sleep(0)
    stopper = asyncio.create_task(cancel_and_wait(task))
    await asyncio.sleep(0)
    release.set()
    while not task.done():  # the task ends; the stopper's wake-up is queued...
        await asyncio.sleep(0)
    stopper.cancel()  # ...and its cancellation comes in the same step
    assert (await _ended(stopper)).cancelled()


async def test_every_task_is_waited_for_and_the_first_failure_in_order_is_raised():
    release, ended = asyncio.Event(), []
    first, second = RuntimeError("meter port gone"), OSError("second")
    tasks = [
        asyncio.create_task(_fails_when_cancelled(first)),
        asyncio.create_task(_stops_when(release, ended, "slow")),
        asyncio.create_task(_fails_when_cancelled(second)),
    ]
    await asyncio.sleep(0)
    stopper = asyncio.create_task(cancel_and_wait(*tasks))
    while not (tasks[0].done() and tasks[2].done()):
        await asyncio.sleep(0)
    assert not stopper.done()  # the failures do not cut the wait short: "slow" has not ended
    release.set()
    with pytest.raises(RuntimeError, match="meter port gone"):
        await (await _ended(stopper))
    assert ended == ["slow"] and tasks[1].cancelled()


async def test_tasks_already_done_are_fine_and_a_failure_among_them_is_raised():
    async def ok() -> int:
        return 1

    async def failed() -> None:
        raise ValueError("bad frame")

    done_ok, done_failed = asyncio.create_task(ok()), asyncio.create_task(failed())
    done_cancelled, running = asyncio.create_task(_forever()), asyncio.create_task(_forever())
    await asyncio.sleep(0)
    done_cancelled.cancel()
    await asyncio.wait({done_ok, done_failed, done_cancelled})
    with pytest.raises(ValueError, match="bad frame"):
        await cancel_and_wait(done_ok, done_cancelled, done_failed, running)
    assert running.cancelled() and done_ok.result() == 1
    await cancel_and_wait(done_ok, done_cancelled, running)  # nothing failed: nothing raised
    await cancel_and_wait()  # no tasks: nothing to wait for


async def test_expected_failures_are_not_raised_but_others_still_are():
    class PortGone(Exception):
        pass

    tasks = [asyncio.create_task(_fails_when_cancelled(PortGone("closed under it"))) for _ in range(2)]
    await asyncio.sleep(0)
    await cancel_and_wait(*tasks, expected=(PortGone,))  # how they end when their port closes
    failing = asyncio.create_task(_fails_when_cancelled(OSError("disk full")))
    await asyncio.sleep(0)
    with pytest.raises(OSError, match="disk full"):
        await cancel_and_wait(*tasks, failing, expected=(PortGone,))
