"""The client against hostile boards: a lie in a response fails the request and ends the
link with `BoardRefused` naming the board, the field, the value and the limit; lies in
events end the link the same way; junk on the line costs bounded memory; silence is a
timeout, not a hang."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from fleet.errors import BoardRefused, FieldOutOfRange, MalformedMessage, RequestTimeout
from fleet.protocol import InferResult, LogLevel, Ping, Reboot, Stream, StreamConfig
from tests.hostile.farm import connect, hostile_farm


INFO_LIES = {
    "max-payload": "evil: refused: Info: max_payload is 4; the protocol minimum is 512",
    "active-slot": "evil: refused: Info: active_slot is 7; the protocol allows 0, 1 or 255 (none)",
    "slot-state": "evil: refused: Info: slot 0 state is 9; slot states are 0..4",
    "slot-size": "evil: refused: Info: slot 0 size is 327681; the board's slot_bytes 327680 is the most",
    "received": "evil: refused: Info: slot 1 received is 1; more than the slot's size 0",
    "long-string": "evil: refused: Info: firmware version is 200 bytes, the limit is 32",
    "bad-utf8": "evil: refused: Info: board kind is not valid UTF-8",
}


@pytest.mark.parametrize("kind", list(INFO_LIES))
async def test_a_lying_info_refuses_the_board_at_hello(kind, tmp_path):
    async with hostile_farm(kind, tmp_path=tmp_path) as farm:
        with pytest.raises(BoardRefused) as caught:
            await asyncio.wait_for(connect(farm), 5)
    assert str(caught.value) == INFO_LIES[kind]
    assert caught.value.board == "evil"
    assert isinstance(caught.value.reason, MalformedMessage)
    assert caught.value.hint


async def test_the_field_value_and_limit_are_attributes(tmp_path):
    async with hostile_farm("max-payload", tmp_path=tmp_path) as farm:
        with pytest.raises(BoardRefused) as caught:
            await asyncio.wait_for(connect(farm), 5)
    reason = caught.value.reason
    assert isinstance(reason, FieldOutOfRange)
    assert (reason.field, reason.value) == ("max_payload", 4)


@pytest.mark.parametrize(("kind", "why"), [
    ("bad-events", "evil: refused: Log: level is 9; the protocol allows at most 3 (ERROR)"),
    ("malformed", "evil: refused: Power: payload is 20 bytes, expected 22"),
])  # fmt: skip
async def test_a_lying_event_ends_the_link(kind, why, tmp_path):
    async with hostile_farm(kind, tmp_path=tmp_path) as farm:
        client = await asyncio.wait_for(connect(farm), 5)
        sub = client.subscribe()
        await client.request(StreamConfig(Stream.POWER | Stream.LOG, LogLevel.DEBUG, 0, 10, 0))
        if kind == "bad-events":
            with contextlib.suppress(BoardRefused):
                await client.request(Reboot())  # the board logs "reboot requested" before it answers
        closed = await asyncio.wait_for(client.wait_closed(), 5)
        assert isinstance(closed, BoardRefused)
        assert str(closed) == why
        with pytest.raises(BoardRefused):
            await asyncio.wait_for(sub.get(), 1)
        with pytest.raises(BoardRefused):
            await client.request(Ping())
        await client.close()


async def test_control_characters_arrive_escaped(tmp_path):
    async with hostile_farm("control", tmp_path=tmp_path) as farm:
        client = await asyncio.wait_for(connect(farm), 5)
        info = client.info
        await client.close()
    assert info.board_kind == "\\x1b[31mkind\\x1b[0m\\u202e[b]x"
    assert info.firmware_version == "\\x1b]0;pwned\\x07[red]fw[/]"
    assert info.slots[0].name == "\\x9b2J[@click=app.quit]"
    for text in (info.board_kind, info.firmware_version, info.slots[0].name, info.slots[0].version):
        assert text.isprintable()


async def test_junk_and_oversize_frames_cost_bounded_memory(tmp_path):
    async with hostile_farm("oversize", tmp_path=tmp_path) as farm:
        client = await asyncio.wait_for(connect(farm), 5)
        await client.request(Ping(b"still here"))  # the junk came right after INFO
        assert client.stats.too_long == 2  # the 40 KB run, and the 8000-byte frame
        assert len(client._decoder._buf) == 0
        await client.close()


async def test_silence_after_hello_is_a_bounded_timeout(tmp_path):
    async with hostile_farm("silent", tmp_path=tmp_path) as farm:
        client = await asyncio.wait_for(connect(farm), 5)
        with pytest.raises(RequestTimeout, match="evil: no answer to Ping after 2 tries of 0.5 s"):
            await asyncio.wait_for(client.request(Ping()), 5)
        await client.close()


async def test_an_event_a_listener_cannot_read_refuses_the_board(tmp_path):
    # e.g. an INFER_RESULT whose output type fleet cannot decode (fleet.telemetry.outputs)
    async with hostile_farm(tmp_path=tmp_path) as farm:
        client = await asyncio.wait_for(connect(farm), 5)

        def listener(msg) -> None:  # noqa: ANN001
            if isinstance(msg, InferResult):
                raise MalformedMessage("INFER_RESULT: output type code 99 is not one fleet can read")

        client.add_listener(listener)
        await client.request(StreamConfig(Stream.RESULTS))
        closed = await asyncio.wait_for(client.wait_closed(), 5)
        assert isinstance(closed, BoardRefused)
        assert str(closed) == "evil: refused: INFER_RESULT: output type code 99 is not one fleet can read"
        await client.close()
