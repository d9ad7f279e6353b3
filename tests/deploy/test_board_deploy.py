"""Every deploy step against a virtual board over a PTY: the happy path and each way it can fail."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import random

import pytest

from fleet.deploy.board_deploy import BoardDeploy, DeployOptions
from fleet.deploy.upload import ModelImage, upload
from fleet.errors import PortVanished
from fleet.protocol import ModelBegin, MsgType, SlotState

from tests.shared_models import shared_model_path as shared

from .conftest import Events, deploy_through_an_unplug, record_requests, running, target_for

FAST = DeployOptions(health_inferences=2, health_timeout_s=5.0, reconnect_window_s=10.0)


async def test_deploy_confirms_and_the_board_runs_the_new_model(one_board, gesture):
    events = Events()
    result = await BoardDeploy(target_for(one_board, "b0"), gesture, FAST, events).run()
    assert result.outcome == "confirmed", result
    kinds = events.kinds()
    for step in ("preflight", "verified", "activated", "confirmed"):
        assert step in kinds
    assert kinds.index("verified") < kinds.index("activated") < kinds.index("confirmed")
    assert events.last("confirmed").inferences == 2
    assert await running(one_board) == (gesture.sha256, SlotState.ACTIVE)


async def test_same_model_is_skipped_and_nothing_is_sent(one_board, sine):
    before = one_board.stats.rx_bytes
    events = Events()
    result = await BoardDeploy(target_for(one_board), sine, FAST, events).run()
    assert result.outcome == "skipped"
    assert "progress" not in [e.event for e in events if e.phase == "uploading"]
    # Only the delimiter and HELLO crossed the wire.
    assert one_board.stats.rx_bytes - before < 32


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "encoded"])
@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_upload_resumes_after_disconnects_at_random_offsets(one_board, seed, compress):
    """Unplug at two seeded random offsets of a 48 KiB transfer; after each replug
    MODEL_BEGIN answers the offset the board kept and the transfer continues from there
    (for an encoded stream: from the end of the last block the board completed)."""
    rng = random.Random(seed)
    data = rng.randbytes(48 * 1024)
    image = ModelImage(data, hashlib.sha256(data).digest(), "blob", str(seed))
    cuts = sorted(rng.sample(range(1024, len(data) - 1024), 2))
    resumed_from = []
    for cut in [*cuts, None]:
        client = await target_for(one_board).connect()
        try:
            begin = await client.request(ModelBegin(1, len(data), image.sha256, image.name, image.version))
            resumed_from.append(begin.offset)

            def pull_at(progress, cut=cut):
                if cut is not None and progress.acked >= cut and one_board.port is not None:
                    asyncio.get_running_loop().create_task(one_board.unplug())

            try:
                await upload(client, image, slot=1, compress=compress, on_progress=pull_at)
            except PortVanished:
                assert cut is not None
        finally:
            await client.close()
        if one_board.port is None:
            await one_board.plug()
    assert resumed_from[0] == 0
    for cut, offset in zip(cuts, resumed_from[1:]):
        assert offset >= cut, f"after the unplug at {cut} B the board offered {offset} B"
    slot = one_board.engine.store.slots[1]
    assert (slot.received, slot.sha256) == (len(data), image.sha256)
    assert one_board.engine.store.read(1) == data


async def test_deploy_resumes_after_an_unplug(tmp_path, sine, gesture):
    """The whole deploy over a paced line: unplug mid-upload, replug, confirm without starting over."""
    from fleet.sim.farm import SimFarm

    from .conftest import farm_config

    async with SimFarm(farm_config(tmp_path, model=sine.data, baud=115200)) as farm:
        # Plain chunks: gesture compresses into one block, and this is about chunk-level resume
        # (tests/deploy/test_encoded_deploy.py resumes an encoded stream).
        every_chunk = dataclasses.replace(FAST, progress_every_s=0.0, compress=False)
        assert await deploy_through_an_unplug(farm.boards[0], gesture, every_chunk, unplug_at=2000) >= 2000


async def test_reboot_before_confirm_comes_back_on_the_old_model(one_board, gesture, sine):
    events = Events()

    def watch(event):
        events(event)
        if event.event == "activated":
            one_board.reset()  # a watchdog reset while the new model is on trial

    result = await BoardDeploy(target_for(one_board), gesture, FAST, watch).run()
    assert result.outcome == "rolled_back"
    # Seen as a BOOT during the health check, or as CONFIRM finding nothing pending.
    assert "rebooted" in result.reason or "reset before CONFIRM" in result.reason
    assert result.reason.endswith("rolled back to factory")
    assert await running(one_board) == (sine.sha256, SlotState.ACTIVE)


async def test_health_check_failure_rolls_back(one_board, gesture, sine):
    strict = dataclasses.replace(FAST, max_latency_us=1)  # no board is that fast
    result = await BoardDeploy(target_for(one_board), gesture, strict, Events()).run()
    assert result.outcome == "rolled_back"
    assert "median latency" in result.reason and "budget" in result.reason
    assert await running(one_board) == (sine.sha256, SlotState.ACTIVE)


async def test_wrong_hash_is_refused_at_commit_and_the_old_model_keeps_running(one_board, gesture, sine):
    client = await target_for(one_board).connect()
    try:
        image = ModelImage(gesture.data, bytes(32), "bad", "1")
        await upload(client, image, slot=1)
        from fleet.errors import ModelRejected
        from fleet.protocol import ModelCommit

        with pytest.raises(ModelRejected, match="HASH_MISMATCH"):
            await client.request(ModelCommit(1))
        info = await client.hello()
        assert info.slots[1].state == SlotState.EMPTY  # the bad bytes were erased
    finally:
        await client.close()
    assert await running(one_board) == (sine.sha256, SlotState.ACTIVE)


async def test_custom_ops_are_refused_before_sending(tmp_path, sine):
    """A real model with custom Signal* ops, which an esp32s3's firmware does not register
    (fleet's own TFLM runner, as on the nano33ble, does: fleet/profiles.toml)."""
    from fleet.deploy.model_file import load_model_file
    from fleet.sim.farm import SimFarm

    from .conftest import farm_config

    try:
        model = load_model_file(shared("audio_preprocessor_int8.tflite"))
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"host TFLM cannot measure this model's arena: {exc}")
    async with SimFarm(farm_config(tmp_path, profiles=("esp32s3",), model=sine.data)) as farm:
        board = farm.boards[0]
        seen = record_requests(board)
        result = await BoardDeploy(target_for(board), model, FAST, Events()).run()
    assert result.outcome == "refused"
    assert "unsupported operators" in result.reason and "Signal" in result.reason
    assert MsgType.MODEL_BEGIN not in seen


async def test_corrupted_chunks_are_resent_and_the_model_verifies(tmp_path, sine, gesture):
    from fleet.sim.faults import FaultSpec
    from fleet.sim.farm import SimFarm

    from .conftest import farm_config

    config = farm_config(tmp_path, model=sine.data, baud=921600, faults=FaultSpec(ber=1e-4))
    async with SimFarm(config) as farm:
        events = Events()
        options = dataclasses.replace(FAST, health_timeout_s=10.0)
        result = await BoardDeploy(target_for(farm.boards[0]), gesture, options, events).run()
        assert result.outcome == "confirmed", result
        assert any((e.retransmits or 0) > 0 for e in events), "BER 1e-4 over 5.5 KB (seeded) corrupts some chunk"
        assert farm.boards[0].engine.store.active is not None
        assert await running(farm.boards[0]) == (gesture.sha256, SlotState.ACTIVE)


# gesture needs a 3152 B arena (measured) and AVERAGE_POOL_2D; sine needs 2192 B and FULLY_CONNECTED.
SMALL_ARENA = {"arena_bytes": 3072}
NO_POOLING = {"ops": frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "RESHAPE", "SOFTMAX"})}


async def test_model_too_big_for_the_arena_is_refused_before_sending(limited_board, gesture):
    board = await limited_board(**SMALL_ARENA)
    assert gesture.arena_bytes == 3152
    seen = record_requests(board)
    result = await BoardDeploy(target_for(board), gesture, FAST, Events()).run()
    assert result.outcome == "refused"
    assert result.reason == "arena 3152 B exceeds the 3072 B tensor arena"
    assert MsgType.MODEL_BEGIN not in seen


async def test_unsupported_op_is_refused_before_sending(limited_board, gesture, monkeypatch):
    # The host knows a kind's operators from its profile, as if profiles.toml listed this one,
    # and the board does not declare RUNTIME (else its own list decides: tests/deploy/test_runtime_preflight.py).
    from fleet.deploy import preflight as preflight_module
    from fleet.profiles import get_profile, load_profiles
    from fleet.protocol import Capability
    from fleet.sim import engine

    lite = get_profile("pico").model_copy(update={"name": "pico-lite", **NO_POOLING})
    monkeypatch.setattr(preflight_module, "load_profiles", lambda: {**load_profiles(), "pico-lite": lite})
    monkeypatch.setattr(engine, "CAPABILITIES", engine.CAPABILITIES & ~Capability.RUNTIME)
    board = await limited_board(name="pico-lite", **NO_POOLING)
    before = board.stats.rx_bytes
    result = await BoardDeploy(target_for(board), gesture, FAST, Events()).run()
    assert result.outcome == "refused"
    assert result.reason == "unsupported operators: AVERAGE_POOL_2D"
    assert board.stats.rx_bytes - before < 32


@pytest.mark.parametrize(
    "updates,code,detail",
    [(SMALL_ARENA, "ARENA_TOO_SMALL", 3152), (NO_POOLING, "OP_UNSUPPORTED", None)],
    ids=["arena", "op"],
)
async def test_board_refuses_at_commit_what_preflight_would_have_refused(limited_board, sine, gesture, updates, code,
                                                                         detail):  # fmt: skip
    """The board's own test-load is the last line: push past pre-flight and see it refuse."""
    from fleet.errors import ModelRejected
    from fleet.protocol import ModelCommit

    board = await limited_board(**updates)
    client = await target_for(board).connect()
    try:
        await upload(client, gesture.image, slot=1)
        with pytest.raises(ModelRejected, match=code) as info:
            await client.request(ModelCommit(1), timeout=60)
        if detail is not None:
            assert info.value.detail == detail
        else:
            assert "AVERAGE_POOL_2D" in info.value.text
    finally:
        await client.close()
    assert await running(board) == (sine.sha256, SlotState.ACTIVE)


async def interrupted_after_activate(board, model) -> None:
    """What a deploy killed right after ACTIVATE leaves behind: the new model on trial (PENDING)."""
    from fleet.protocol import ActivateMode, ModelActivate, ModelCommit

    client = await target_for(board).connect()
    try:
        await upload(client, model.image, slot=1)
        await client.request(ModelCommit(1), timeout=30)
        await client.request(ModelActivate(1, ActivateMode.TEST))
    finally:
        await client.close()
    assert await running(board) == (model.sha256, SlotState.PENDING)


async def test_a_model_on_trial_is_not_already_running_a_redeploy_confirms_it(one_board, gesture):
    await interrupted_after_activate(one_board, gesture)
    events = Events()
    result = await BoardDeploy(target_for(one_board), gesture, FAST, events).run()
    assert result.outcome == "confirmed", result
    assert "skipped" not in events.kinds()
    assert events.last("confirmed").inferences == 2  # the health check ran
    assert await running(one_board) == (gesture.sha256, SlotState.ACTIVE)
    store = one_board.engine.store
    assert store.slots[store.active].sha256 == gesture.sha256


async def test_a_model_on_trial_that_fails_health_is_rolled_back_by_the_redeploy(one_board, gesture, sine):
    await interrupted_after_activate(one_board, gesture)
    strict = dataclasses.replace(FAST, max_latency_us=1)
    result = await BoardDeploy(target_for(one_board), gesture, strict, Events()).run()
    assert result.outcome == "rolled_back", result
    assert result.reason.endswith("rolled back to factory")
    assert await running(one_board) == (sine.sha256, SlotState.ACTIVE)


async def test_a_link_lost_for_good_after_confirm_was_sent_is_reported_unknown(one_board, gesture):
    """CONFIRM left and the board never came back: it may run either model, and we say so."""
    from fleet.deploy.board_deploy import DeployTarget
    from fleet.errors import PortNotFound
    from fleet.protocol import ModelConfirm

    inner = target_for(one_board)
    state = {"gone": False}

    async def connect():
        if state["gone"]:
            raise PortNotFound("unplugged for good")
        client = await inner.connect()
        request = client.request

        async def lossy(msg, **kw):
            if isinstance(msg, ModelConfirm):
                await request(msg, **kw)  # the board confirms ...
                state["gone"] = True
                raise PortVanished("the cable came out")  # ... and we never hear it
            return await request(msg, **kw)

        client.request = lossy
        return client

    target = DeployTarget(inner.name, inner.uid, inner.port, connect)
    brief = dataclasses.replace(FAST, reconnect_window_s=0.5)
    result = await BoardDeploy(target, gesture, brief, Events()).run()
    assert result.outcome == "unknown", result
    assert "CONFIRM" in result.reason
    assert await running(one_board) == (gesture.sha256, SlotState.ACTIVE)  # so "failed" would have been a lie


async def test_a_port_locked_for_a_moment_by_no_fleet_process_is_tried_again(one_board, gesture):
    """pyserial's device lock says "in use" without naming anyone (the last user may be
    closing it): that is retried within the window; a fleet lock naming its holder is not."""
    from fleet.deploy.board_deploy import DeployTarget
    from fleet.errors import PortBusy
    from fleet.transport.lock import Holder

    inner = target_for(one_board)
    refusals = [PortBusy("/dev/pts/9: in use by another process (Could not exclusively lock port)")] * 2

    async def connect():
        if refusals:
            raise refusals.pop()
        return await inner.connect()

    result = await BoardDeploy(DeployTarget(inner.name, inner.uid, inner.port, connect), gesture, FAST, Events()).run()
    assert result.outcome == "confirmed", result

    holder = Holder(4242, "lab-1", "2026-11-29T17:32:01+00:00", "fleet monitor", "/dev/pts/9")

    async def held():
        raise PortBusy(f"/dev/pts/9: busy ({holder.describe()})", holder=holder)

    result = await BoardDeploy(DeployTarget(inner.name, inner.uid, inner.port, held), gesture, FAST, Events()).run()
    assert result.outcome == "busy" and "pid 4242 on lab-1" in result.reason
