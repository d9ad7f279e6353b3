"""The uploader against boards whose MODEL_ACKs (or DATA_ACKs) lie: an ACK beyond the bytes sent, or one
that goes back below what the board acknowledged before, is refused at once (no loop, no
"complete" upload of bytes never sent), and so is a BEGIN ack that resumes past the end."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from fleet.deploy.upload import ModelImage, upload
from fleet.errors import BoardRefused
from fleet.models.bundled import bundled_model
from tests.hostile.farm import connect, hostile_farm



def image() -> ModelImage:
    data = bundled_model("gesture").read_bytes()  # 5552 bytes: several chunks
    return ModelImage(data, hashlib.sha256(data).digest(), "gesture", "1")


@pytest.mark.parametrize(("compress", "ack"), [(False, "ChunkAck"), (True, "DataAck")], ids=["plain", "encoded"])
@pytest.mark.parametrize(("kind", "why"), [
    ("ack-beyond", r"evil: refused: {ack}: next_offset is 100\d{{4}}; only \d+ bytes were sent"),
    ("ack-backwards", r"evil: refused: {ack}: next_offset is \d+; the board acknowledged \d+ bytes before"),
    ("begin-offset", r"evil: refused: BeginAck: offset is 5553; the model has only 5552 bytes"),
])  # fmt: skip
async def test_lying_acks_are_refused_not_looped_on(kind, why, compress, ack, tmp_path):
    async with hostile_farm(kind, tmp_path=tmp_path) as farm:
        client = await asyncio.wait_for(connect(farm), 5)
        with pytest.raises(BoardRefused, match=why.format(ack=ack)):
            await asyncio.wait_for(upload(client, image(), 1, compress=compress), 10)
        assert client.stats.frames_out < 40  # refused at the first lie, not after hundreds of resends
        await client.close()


async def test_an_honest_board_takes_the_same_upload(tmp_path):
    async with hostile_farm("control", tmp_path=tmp_path) as farm:  # lies only in its strings
        client = await asyncio.wait_for(connect(farm), 5)
        progress = await asyncio.wait_for(upload(client, image(), 1), 10)
        assert progress.acked == progress.size == 5552
        await client.close()
