"""The event pump: drains a source's consumer in batches, folds them into the `Feed`, and posts
what changed as typed messages. Runs as an async worker on the app's loop; it never blocks
(the consumer is an asyncio queue) and posts at most one message of each kind per batch,
so 32 boards x 200 results/s cost a few messages per batch, not 6400 per second.
"""

from __future__ import annotations

import asyncio

from textual.message_pump import MessagePump

from fleet.telemetry.fanout import Consumer
from fleet.tui.feed import Feed
from fleet.tui.messages import BoardsChanged, DeploySteps, FeedEnded, LogLines

MAX_BATCH = 2048
# After each batch the pump sleeps this long: under load, events pile up meanwhile and are
# folded together, and the screen always gets the loop back (a queue with items never yields).
BATCH_PAUSE_S = 0.02


async def pump(feed: Feed, consumer: Consumer, target: MessagePump) -> None:
    """Until the consumer ends: wait for an event, take what else is queued, fold, post."""
    try:
        while True:
            try:
                first = await consumer.get()
            except StopAsyncIteration:
                break
            batch = [first, *consumer.take(MAX_BATCH - 1)]
            changes = feed.ingest(batch)
            if changes.boards:
                target.post_message(BoardsChanged(changes.boards))
            if changes.logs:
                target.post_message(LogLines(changes.logs))
            if changes.deploys:
                target.post_message(DeploySteps(changes.deploys))
            await asyncio.sleep(BATCH_PAUSE_S)
    finally:
        consumer.close()
    target.post_message(FeedEnded())
