"""Every deploy step against a virtual board over a PTY: the happy path and each way it can fail."""

from __future__ import annotations

import asyncio
import dataclasses
import random

import pytest
import pytest_asyncio

from fleet.deploy.board_deploy import BoardDeploy, DeployOptions
from fleet.deploy.upload import ModelImage, upload
from fleet.protocol import SlotState

from .conftest import Events, shared, target_for

pytestmark = pytest.mark.asyncio
FAST = DeployOptions(health_inferences=2, health_timeout_s=5.0, reconnect_window_s=10.0)


async def running(board) -> tuple[bytes, int]:
    """(sha256, state) of the model the board runs, from a fresh HELLO."""
    client = await target_for(board).connect()
    try:
        active = client.info.active
        return (active.sha256, active.state) if active else (b"", SlotState.EMPTY)
    finally:
        await client.close()


async def test_deploy_confirms_and_the_board_runs_the_new_model(one_board, micro_speech):
    events = Events()
    result = await BoardDeploy(target_for(one_board, "b0"), micro_speech, FAST, events).run()
    assert result.outcome == "confirmed", result
    kinds = events.kinds()
    for step in ("preflight", "verified", "activated", "confirmed"):
        assert step in kinds
    assert kinds.index("verified") < kinds.index("activated") < kinds.index("confirmed")
    assert events.last("confirmed").inferences == 2
    assert await running(one_board) == (micro_speech.sha256, SlotState.ACTIVE)


async def test_same_model_is_skipped_and_nothing_is_sent(one_board, hello_world):
    before = one_board.stats.rx_bytes
    events = Events()
    result = await BoardDeploy(target_for(one_board), hello_world, FAST, events).run()
    assert result.outcome == "skipped"
    assert "progress" not in [e.event for e in events if e.phase == "uploading"]
    # Only the delimiter and HELLO crossed the wire.
    assert one_board.stats.rx_bytes - before < 32


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_upload_resumes_after_disconnects_at_random_offsets(one_board, micro_speech, seed):
    """Unplug twice at seeded random offsets; after each replug MODEL_BEGIN answers the offset
    the board kept, and the transfer continues from there instead of from zero."""
    rng = random.Random(seed)
    size = len(micro_speech.data)
    half = size // 2
    cuts = [rng.randrange(1024, half - 2048), rng.randrange(half + 2048, size - 1024)]
    events = Events()
    pending = list(cuts)
    pulled = asyncio.Queue()

    def watch(event):
        events(event)
        if event.phase == "uploading" and pending and (event.bytes or 0) >= pending[0]:
            pulled.put_nowait(pending.pop(0))

    async def cable_puller():
        for _ in cuts:
            await pulled.get()
            await one_board.unplug()
            await asyncio.sleep(0.2)
            await one_board.plug()

    puller = asyncio.create_task(cable_puller())
    every_chunk = dataclasses.replace(FAST, progress_every_s=0.0)
    result = await BoardDeploy(target_for(one_board), micro_speech, every_chunk, watch).run()
    await asyncio.wait_for(puller, 5)
    assert result.outcome == "confirmed", result
    starts = [i for i, e in enumerate(events) if e.phase == "reconnecting"]
    assert len(starts) == 2
    for cut, start in zip(cuts, starts):
        resumed_at = next(e.bytes for e in events[start:] if e.phase == "uploading")
        assert resumed_at >= cut, f"after the unplug at {cut} B the transfer restarted at {resumed_at} B"
    assert [e for e in events if e.phase == "uploading"][-1].bytes == size
    assert await running(one_board) == (micro_speech.sha256, SlotState.ACTIVE)


async def test_reboot_before_confirm_comes_back_on_the_old_model(one_board, micro_speech, hello_world):
    events = Events()

    def watch(event):
        events(event)
        if event.event == "activated":
            one_board.reset()  # a watchdog reset while the new model is on trial

    result = await BoardDeploy(target_for(one_board), micro_speech, FAST, watch).run()
    assert result.outcome == "rolled_back"
    assert "rebooted" in result.reason and "rolled back to factory" in result.reason
    assert await running(one_board) == (hello_world.sha256, SlotState.ACTIVE)


async def test_health_check_failure_rolls_back(one_board, micro_speech, hello_world):
    strict = dataclasses.replace(FAST, max_latency_us=1)  # no board is that fast
    result = await BoardDeploy(target_for(one_board), micro_speech, strict, Events()).run()
    assert result.outcome == "rolled_back"
    assert "median latency" in result.reason and "budget" in result.reason
    assert await running(one_board) == (hello_world.sha256, SlotState.ACTIVE)


async def test_wrong_hash_is_refused_at_commit_and_the_old_model_keeps_running(one_board, micro_speech, hello_world):
    client = await target_for(one_board).connect()
    try:
        image = ModelImage(micro_speech.data, bytes(32), "bad", "1")
        await upload(client, image, slot=1)
        from fleet.errors import ModelRejected
        from fleet.protocol import ModelCommit

        with pytest.raises(ModelRejected, match="HASH_MISMATCH"):
            await client.request(ModelCommit(1))
        info = await client.hello()
        assert info.slots[1].state == SlotState.EMPTY  # the bad bytes were erased
    finally:
        await client.close()
    assert await running(one_board) == (hello_world.sha256, SlotState.ACTIVE)


async def test_unsupported_ops_are_refused_before_sending(one_board):
    from fleet.deploy.model_file import load_model_file

    try:
        model = load_model_file(shared("audio_preprocessor_int8.tflite"))
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"host TFLM cannot measure this model's arena: {exc}")
    before = one_board.stats.rx_bytes
    result = await BoardDeploy(target_for(one_board), model, FAST, Events()).run()
    assert result.outcome == "refused"
    assert "unsupported operators" in result.reason
    assert one_board.stats.rx_bytes - before < 32


async def test_corrupted_chunks_are_resent_and_the_model_verifies(tmp_path, hello_world, micro_speech):
    from fleet.sim.faults import FaultSpec
    from fleet.sim.farm import SimFarm

    from .conftest import farm_config

    config = farm_config(tmp_path, model=hello_world.data, baud=921600, faults=FaultSpec(ber=2e-5))
    async with SimFarm(config) as farm:
        events = Events()
        options = dataclasses.replace(FAST, health_timeout_s=10.0)
        result = await BoardDeploy(target_for(farm.boards[0]), micro_speech, options, events).run()
        assert result.outcome == "confirmed", result
        assert any((e.retransmits or 0) > 0 for e in events), "BER 2e-5 over 19 KB should corrupt some chunk"
        assert farm.boards[0].engine.store.active is not None
        assert await running(farm.boards[0]) == (micro_speech.sha256, SlotState.ACTIVE)


@pytest_asyncio.fixture
async def small_arena_board(tmp_path, hello_world):
    """A Pico whose firmware leaves only 64 KiB for the tensor arena."""
    from fleet.profiles import get_profile
    from fleet.sim.board import make_engine, program_model
    from fleet.sim.pty import PtyTransport
    from fleet.sim.runner import LinkConfig, VirtualBoard

    profile = get_profile("pico").model_copy(update={"arena_bytes": 64 * 1024})
    engine = make_engine(profile, tmp_path / "flash", name="small-arena")
    program_model(engine, hello_world.data, name="factory")
    board = VirtualBoard(engine, PtyTransport, LinkConfig(baud=None, turnaround_us=200))
    await board.start()
    yield board
    await board.stop()


async def test_model_too_big_for_the_arena_is_refused_before_sending(small_arena_board):
    from fleet.deploy.model_file import load_model_file

    person = load_model_file(shared("person_detect.tflite"))
    assert person.arena_bytes > 64 * 1024
    before = small_arena_board.stats.rx_bytes
    result = await BoardDeploy(target_for(small_arena_board), person, FAST, Events()).run()
    assert result.outcome == "refused"
    assert f"arena {person.arena_bytes} B exceeds the 65536 B tensor arena" in result.reason
    assert small_arena_board.stats.rx_bytes - before < 32


async def test_board_refuses_at_commit_what_preflight_would_have_refused(small_arena_board, hello_world):
    """The board's own test-load is the last line: push past pre-flight and see ARENA_TOO_SMALL."""
    from fleet.deploy.model_file import load_model_file
    from fleet.errors import ModelRejected
    from fleet.protocol import ModelCommit

    person = load_model_file(shared("person_detect.tflite"))
    client = await target_for(small_arena_board).connect()
    try:
        await upload(client, person.image, slot=1)
        with pytest.raises(ModelRejected, match="ARENA_TOO_SMALL") as info:
            await client.request(ModelCommit(1), timeout=60)
        assert info.value.detail == person.arena_bytes
    finally:
        await client.close()
    assert await running(small_arena_board) == (hello_world.sha256, SlotState.ACTIVE)
