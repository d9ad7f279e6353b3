"""Deploys with encoded uploads (PROTOCOL.md section 10) against virtual boards on PTYs:
every failure ends with the old model still active or the new one verified."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from fleet.deploy import stream_plan, upload as upload_module
from fleet.deploy.board_deploy import BoardDeploy, DeployOptions
from fleet.deploy.model_cache import ModelCache
from fleet.deploy.model_file import ModelFile, load_model_file
from fleet.models.variants import retrain_last_layer
from fleet.protocol import Capability, MsgType, SlotState
from fleet.sim import engine
from fleet.sim.farm import SimFarm
from fleet.upload_codec import EncodedModel
from tests.shared_models import shared_model_path as shared

from .conftest import Events, deploy_through_an_unplug, farm_config, record_requests, running, target_for

FAST = DeployOptions(health_inferences=2, health_timeout_s=5.0, reconnect_window_s=10.0, progress_every_s=0.0)


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelCache:
    """A model cache (and encodings) of this test's own: what the host holds is what the test says."""
    monkeypatch.setenv("FLEET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(upload_module, "ENCODINGS", stream_plan.EncodingCache())
    return ModelCache()


def uploads(events: Events) -> list:
    return [e for e in events if e.phase == "uploading"]


def variant_file(tmp_path: Path, model: ModelFile) -> ModelFile:
    path = tmp_path / "retrained.tflite"
    path.write_bytes(retrain_last_layer(model.data))
    return load_model_file(path)


async def test_compressed_deploy_reports_wire_and_model_bytes(one_board, gesture):
    events = Events()
    result = await BoardDeploy(target_for(one_board), gesture, FAST, events).run()
    assert result.outcome == "confirmed"
    last = uploads(events)[-1]
    assert last.encoding == "deflate" and last.bytes == last.total == len(gesture.data)
    assert 0 < last.wire_bytes < len(gesture.data) * 0.7
    assert await running(one_board) == (gesture.sha256, SlotState.ACTIVE)


async def test_delta_deploy_sends_what_changed(tmp_path, one_board, sine, own_cache):
    own_cache.put(sine.data)  # the host deployed the model the board runs
    new = variant_file(tmp_path, sine)
    events = Events()
    result = await BoardDeploy(target_for(one_board), new, FAST, events).run()
    assert result.outcome == "confirmed"
    last = uploads(events)[-1]
    assert last.encoding == "delta" and last.wire_bytes < len(new.data) // 10
    assert await running(one_board) == (new.sha256, SlotState.ACTIVE)
    assert own_cache.get(new.sha256) == new.data  # the base of the next delta


async def test_no_compress_sends_plain_chunks(one_board, gesture):
    seen = record_requests(one_board)
    events = Events()
    options = dataclasses.replace(FAST, compress=False)
    assert (await BoardDeploy(target_for(one_board), gesture, options, events).run()).outcome == "confirmed"
    assert MsgType.MODEL_STREAM not in seen and MsgType.MODEL_CHUNK in seen
    assert uploads(events)[-1].encoding == "plain"


async def test_board_without_the_capability_gets_plain_chunks(tmp_path, sine, gesture, monkeypatch):
    monkeypatch.setattr(engine, "CAPABILITIES", engine.CAPABILITIES & ~(Capability.DEFLATE | Capability.DELTA))
    async with SimFarm(farm_config(tmp_path, model=sine.data)) as farm:
        seen = record_requests(farm.boards[0])
        result = await BoardDeploy(target_for(farm.boards[0]), gesture, FAST, Events()).run()
        assert result.outcome == "confirmed"
        assert MsgType.MODEL_STREAM not in seen


async def test_base_not_what_the_host_assumed_falls_back_to_compression(tmp_path, one_board, sine, monkeypatch):
    """The board's base slot holds another model than the host assumed: BASE_MISMATCH, then
    a compressed stream without a base, and the new model is verified and confirmed."""
    new = variant_file(tmp_path, sine)
    wrong = stream_plan.StreamPlan("delta", 0, bytes(32), sine.data)
    monkeypatch.setattr(upload_module, "plan_upload", lambda *a, **k: wrong)
    events = Events()
    result = await BoardDeploy(target_for(one_board), new, FAST, events).run()
    assert result.outcome == "confirmed"
    assert uploads(events)[-1].encoding == "deflate"
    assert await running(one_board) == (new.sha256, SlotState.ACTIVE)


async def test_corrupt_base_bytes_end_in_a_plain_upload(tmp_path, one_board, sine, own_cache):
    """The base slot's bytes rotted under a correct hash: the delta decodes to something else,
    COMMIT finds the hash wrong and erases the slot, the host sends the model again plain."""
    own_cache.put(sine.data)
    new = variant_file(tmp_path, sine)
    store = one_board.engine.store
    path = store.directory / "slot0.bin"
    rotten = bytearray(path.read_bytes())
    rotten[100] ^= 0xFF  # inside what the delta copies
    path.write_bytes(bytes(rotten))
    events = Events()
    result = await BoardDeploy(target_for(one_board), new, FAST, events).run()
    assert result.outcome == "confirmed", result
    assert [e.encoding for e in uploads(events)][-1] == "plain"
    assert await running(one_board) == (new.sha256, SlotState.ACTIVE)


@pytest.mark.parametrize("bad_streams", [1, 10], ids=["once", "always"])
async def test_decoder_error_is_retried_then_sent_plain(one_board, gesture, monkeypatch, bad_streams):
    """A stream the board cannot decode: DECODE_FAILED; the host opens the stream again, and
    after a second failure sends plain chunks. Either way the new model is verified."""
    real = upload_module.ENCODINGS
    served = 0

    class Corrupting:
        async def get(self, *args, **kwargs) -> EncodedModel:
            nonlocal served
            encoded = await real.get(*args, **kwargs)
            served += 1
            if served > bad_streams:
                return encoded
            return dataclasses.replace(encoded, stream=b"\x09" + encoded.stream[1:])  # an unknown block kind

    monkeypatch.setattr(upload_module, "ENCODINGS", Corrupting())
    events = Events()
    result = await BoardDeploy(target_for(one_board), gesture, FAST, events).run()
    assert result.outcome == "confirmed"
    assert uploads(events)[-1].encoding == ("deflate" if bad_streams == 1 else "plain")
    assert await running(one_board) == (gesture.sha256, SlotState.ACTIVE)


async def test_encoded_deploy_resumes_after_an_unplug(tmp_path, sine):
    """Unplug once the first 16 KiB block is in the slot: after the replug MODEL_BEGIN offers
    that block's end and the stream continues from there."""
    model = load_model_file(shared("micro_speech_quantized.tflite"))
    async with SimFarm(farm_config(tmp_path, model=sine.data, baud=115200)) as farm:
        assert await deploy_through_an_unplug(farm.boards[0], model, FAST, unplug_at=1) >= 16384


async def test_a_board_claiming_blocks_it_cannot_hold_is_refused(one_board, gesture, sine, monkeypatch):
    """DATA_ACK's `received` must be the end of the last block the acknowledged stream bytes
    complete: a board that claims more is lying, and the host refuses it."""
    from fleet.protocol import DataAck
    from fleet.sim.encoded_upload import EncodedUpload

    honest = EncodedUpload.data

    def lying(self, request):  # noqa: ANN001
        ack = honest(self, request)
        return DataAck(ack.next_offset, ack.received + 1)

    monkeypatch.setattr(EncodedUpload, "data", lying)
    result = await BoardDeploy(target_for(one_board), gesture, FAST, Events()).run()
    assert result.outcome == "failed"
    assert "DataAck: received" in result.reason
    assert await running(one_board) == (sine.sha256, SlotState.ACTIVE)


async def test_a_skipped_deploy_remembers_the_model_as_a_base(tmp_path, one_board, sine, own_cache):
    """The board already runs the file: nothing is sent, but the host keeps the bytes, so the
    next version goes as a delta."""
    assert own_cache.get(sine.sha256) is None
    assert (await BoardDeploy(target_for(one_board), sine, FAST, Events()).run()).outcome == "skipped"
    assert own_cache.get(sine.sha256) == sine.data
    events = Events()
    assert (await BoardDeploy(target_for(one_board), variant_file(tmp_path, sine), FAST, events).run()).outcome == "confirmed"
    assert uploads(events)[-1].encoding == "delta"
