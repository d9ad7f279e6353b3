"""A deploy cancelled (Ctrl-C) in the loop step an ACK or a health-check event arrives ends
cancelled, in whichever step after it the cancellation lands (tests/support/steps.py).

Before, `asyncio.wait_for` (Python 3.11) returned the ACK or the event and dropped the
cancellation: the upload sent on and the health check counted on, so a deploy the user
had stopped went on to CONFIRM its model. A scripted board on a memory pipe answers only
what each test hands it, and hands it to the client within the test's own step."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib

import pytest

from fleet.client import BoardClient
from fleet.deploy.board_deploy import BoardDeploy, DeployOptions, DeployTarget
from fleet.deploy.upload import ModelImage, upload
from fleet.protocol import BeginAck, ChunkAck, Log, ModelBegin, ModelChunk, encode_message
from fleet.transport.memory import MemoryTransport
from tests.client.test_client_unit import INFO, FedHost, Scripted
from tests.support.steps import STEPS, Canceller

# Plain uploads only, one chunk in flight (the window is one chunk), as slow as need be.
INFO_ONE_CHUNK = dataclasses.replace(INFO, capabilities=0, rx_window=1)
PATIENT_S = 3600.0  # no timeout may end a test: only the cancellation does


async def scripted_client(answer) -> tuple[BoardClient, FedHost, Scripted]:  # noqa: ANN001
    host, board = FedHost("mem:host"), MemoryTransport("mem:board")
    host._peer, board._peer = board, host

    def respond(seq, msg):  # noqa: ANN001, ANN202
        return encode_message(INFO_ONE_CHUNK, seq) if type(msg).__name__ == "Hello" else answer(seq, msg)

    dev = Scripted(board, respond)
    return await BoardClient.connect(host, timeout=PATIENT_S), host, dev


@pytest.mark.parametrize("steps", STEPS)
async def test_an_upload_cancelled_as_an_ack_arrives_ends_cancelled(steps):
    def answer(seq, msg):  # noqa: ANN001, ANN202
        return encode_message(BeginAck(msg.slot, 0), seq) if isinstance(msg, ModelBegin) else None

    client, host, dev = await scripted_client(answer)
    data = bytes(range(256)) * 12  # three chunks
    canceller = Canceller(steps)
    canceller.victim = asyncio.create_task(upload(client, ModelImage(data, hashlib.sha256(data).digest()), 1,
                                                  compress=False, initial_rto=PATIENT_S))  # fmt: skip
    while not (chunks := [(seq, m) for seq, m in dev.requests if isinstance(m, ModelChunk)]):
        await asyncio.sleep(0)
    seq, chunk = chunks[0]
    host.deliver(encode_message(ChunkAck(chunk.offset + len(chunk.data)), seq))  # the ACK...
    canceller.fire()  # ...and Ctrl-C
    assert (await canceller.outcome()).cancelled() or steps > 0
    await client.close()


@pytest.mark.parametrize("steps", STEPS)
async def test_a_health_check_cancelled_as_an_event_arrives_ends_cancelled(steps, sine):
    client, host, _ = await scripted_client(lambda seq, msg: None)
    target = DeployTarget("b", INFO.uid.hex(), "mem:host", lambda: client)
    deploy = BoardDeploy(target, sine, DeployOptions(health_inferences=2, health_timeout_s=PATIENT_S), print)
    sub = client.subscribe()
    canceller = Canceller(steps)
    canceller.victim = asyncio.create_task(deploy._health_check(sub))
    await asyncio.sleep(0)  # the health check waits for the board's events
    host.deliver(encode_message(Log(0, 1, "warming up"), 0))  # an event...
    canceller.fire()  # ...and Ctrl-C
    assert (await canceller.outcome()).cancelled() or steps > 0
    sub.close()
    await client.close()
