"""Fan-out: a slow consumer drops (counted), never stalls the producer or the others."""

import asyncio

import pytest

from fleet.telemetry.fanout import EventHub
from tests.support.events import result


async def test_a_full_consumer_drops_and_counts_while_others_get_everything():
    hub = EventHub()
    slow = hub.subscribe(maxsize=10, name="slow")
    fast = hub.subscribe(maxsize=10_000, name="fast")
    seen = []
    sunk = []
    hub.add_sink(sunk.append)

    async def drain():
        async for event in fast:
            seen.append(event)

    task = asyncio.create_task(drain())
    for i in range(1000):
        hub.publish(result(i, i + 1, board="a" if i % 2 else "b"))  # never awaits
    hub.close()
    await asyncio.wait_for(task, 5)
    assert [e.inference_count for e in seen] == list(range(1, 1001))
    assert len(sunk) == 1000
    assert slow.dropped == 990
    assert slow.dropped_by_board == {"a": 495, "b": 495}
    got = [slow.get_nowait() for _ in range(10)]
    assert [e.inference_count for e in got] == list(range(1, 11))  # the oldest kept, the newest dropped


async def test_close_ends_iteration_even_for_a_full_queue():
    hub = EventHub()
    consumer = hub.subscribe(maxsize=2)
    for i in range(5):
        hub.publish(result(i, i + 1))
    hub.close()
    items = [e async for e in consumer]
    assert [e.inference_count for e in items] == [1, 2]  # what was queued, then the end
    assert consumer.dropped == 3
    assert consumer.ended
    late = hub.subscribe()
    with pytest.raises(StopAsyncIteration):
        await late.get()


async def test_publish_wait_blocks_instead_of_dropping():
    hub = EventHub()
    consumer = hub.subscribe(maxsize=1)

    async def produce():
        for i in range(50):
            await hub.publish_wait(result(i, i + 1))
        hub.close()

    task = asyncio.create_task(produce())
    got = [e.inference_count async for e in consumer]
    await task
    assert got == list(range(1, 51))
    assert consumer.dropped == 0


def test_closed_consumers_stop_receiving():
    hub = EventHub()
    consumer = hub.subscribe(maxsize=5)
    consumer.close()
    hub.publish(result(0, 1))
    assert consumer.pending == 0 and hub.consumers == ()


@pytest.mark.parametrize("sizes", [(1,), (7, 3), (1000,), (4, 4, 4, 250)])
async def test_a_batch_publishes_as_its_events_one_by_one_would(sizes):
    events = [result(i, i + 1, board="a" if i % 3 else "b") for i in range(sum(sizes) * 4)]
    hubs = [EventHub(), EventHub()]
    consumers = [[hub.subscribe(maxsize=10, name="slow"), hub.subscribe(maxsize=10_000)] for hub in hubs]
    sunk: list[list] = [[], []]
    for hub, into in zip(hubs, sunk):
        hub.add_sink(into.append)
    i = 0
    while i < len(events):
        for n in sizes:
            batch = events[i : i + n]
            if batch:
                hubs[1].publish_batch(batch)
                for event in batch:
                    hubs[0].publish(event)
            i += n
    assert sunk[0] == sunk[1] == events and hubs[0].published == hubs[1].published
    for one, batched in zip(*consumers):
        assert (one.dropped, one.dropped_by_board) == (batched.dropped, batched.dropped_by_board)
        assert one.take(1 << 20) == batched.take(1 << 20)


async def test_a_batch_wakes_a_waiting_consumer_once_and_it_iterates_every_event():
    hub = EventHub()
    consumer = hub.subscribe(maxsize=100)
    seen = []

    async def drain():
        async for event in consumer:
            seen.append(event.inference_count)

    task = asyncio.create_task(drain())
    await asyncio.sleep(0)  # the consumer now waits
    hub.publish_batch([result(i, i + 1) for i in range(5)])
    hub.close()
    await asyncio.wait_for(task, 5)
    assert seen == [1, 2, 3, 4, 5]
