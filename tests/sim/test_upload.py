"""The upload and slot state machine (PROTOCOL.md sections 4-5), on the engine with a fake clock."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.error_codes import ErrorCode
from fleet.models.bundled import bundled_model
from fleet.protocol import (
    NO_SLOT, ActivateMode, BeginAck, Boot, ChunkAck, CommitAck, Error, Hello, Info, ModelActivate, ModelBegin,
    ModelChunk, ModelCommit, ModelConfirm, ModelRollback, Reboot, RebootAck, SlotState, SlotStatus,
)  # fmt: skip
from fleet.sim.factory import make_engine
from tests.support.hosts import EngineHost

SINE_SIZE = bundled_model("sine").stat().st_size  # 3568 B: the `sine` fixture's length


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def slot_states(status: Info | SlotStatus) -> tuple[int, int, int]:
    """(active_slot, slot 0's state, slot 1's state) of an INFO or a slot status."""
    return status.active_slot, status.slots[0].state, status.slots[1].state


def states(host: EngineHost) -> tuple[int, int, int]:
    return slot_states(host.ok(Hello()))


def error_code(response) -> ErrorCode:
    assert isinstance(response, Error), response
    return ErrorCode(response.code)


def test_begin_chunk_commit_activate(host, sine):
    ack = host.ok(ModelBegin(0, len(sine.data), sha(sine.data), "sine", "1.0"))
    assert ack == BeginAck(0, 0)
    assert states(host) == (NO_SLOT, SlotState.RECEIVING, SlotState.EMPTY)
    for offset in range(0, len(sine.data), 1000):
        assert host.ok(ModelChunk(offset, sine.data[offset : offset + 1000])) == ChunkAck(
            min(offset + 1000, len(sine.data))
        )
    commit = host.ok(ModelCommit(0))
    assert isinstance(commit, CommitAck) and commit.slot == 0 and commit.arena_used > 0
    assert states(host) == (NO_SLOT, SlotState.VALID, SlotState.EMPTY)
    status = host.ok(ModelActivate(0, ActivateMode.TEST))
    assert status.active_slot == 0 and status.slots[0].state == SlotState.PENDING
    status = host.ok(ModelConfirm(0))
    assert status.slots[0].state == SlotState.ACTIVE
    info = host.ok(Hello())
    assert info.slots[0].sha256 == sha(sine.data) and info.slots[0].name == "sine"
    assert info.slots[0].received == info.slots[0].size == len(sine.data)


def test_commit_is_idempotent_and_reports_arena(host, sine):
    host.upload(sine.data)
    first = host.ok(ModelCommit(0))
    assert host.ok(ModelCommit(0)) == first


def test_chunk_rules_gap_retransmit_range_empty(host, sine):
    size = len(sine.data)
    host.ok(ModelBegin(1, size, sha(sine.data)))
    assert host.ok(ModelChunk(0, sine.data[:100])).next_offset == 100
    assert host.ok(ModelChunk(500, sine.data[500:600])).next_offset == 100  # gap: dropped
    assert host.ok(ModelChunk(0, sine.data[:100])).next_offset == 100  # retransmission
    assert host.ok(ModelChunk(50, sine.data[50:150])).next_offset == 100  # overlaps, not at received
    out = host.request(ModelChunk(size - 10, bytes(11)))
    assert error_code(out) is ErrorCode.OUT_OF_RANGE and out.detail == size
    assert error_code(host.request(ModelChunk(100, b""))) is ErrorCode.BAD_PAYLOAD


def test_chunk_and_commit_without_begin(host):
    assert error_code(host.request(ModelChunk(0, b"x"))) is ErrorCode.NO_UPLOAD
    assert error_code(host.request(ModelCommit(0))) is ErrorCode.NO_UPLOAD


def test_begin_refusals(host, sine):
    size_limit = host.engine.profile.slot_bytes
    out = host.request(ModelBegin(0, size_limit + 1, bytes(32)))
    assert error_code(out) is ErrorCode.TOO_LARGE and out.detail == size_limit
    assert error_code(host.request(ModelBegin(0, 0, bytes(32)))) is ErrorCode.TOO_LARGE
    assert error_code(host.request(ModelBegin(2, 10, bytes(32)))) is ErrorCode.BAD_SLOT
    host.deploy(sine.data, slot=0)
    out = host.request(ModelBegin(0, 10, bytes(32)))  # the running, ACTIVE slot
    assert error_code(out) is ErrorCode.BAD_SLOT
    assert host.ok(ModelBegin(1, 10, bytes(32))) == BeginAck(1, 0)


def test_commit_incomplete_reports_received(host, sine):
    host.ok(ModelBegin(0, len(sine.data), sha(sine.data)))
    host.ok(ModelChunk(0, sine.data[:700]))
    out = host.request(ModelCommit(0))
    assert error_code(out) is ErrorCode.INCOMPLETE and out.detail == 700


def test_hash_mismatch_erases_slot(host, sine):
    wrong = bytes(32)
    host.ok(ModelBegin(0, len(sine.data), wrong))
    for offset in range(0, len(sine.data), 1000):
        host.ok(ModelChunk(offset, sine.data[offset : offset + 1000]))
    assert error_code(host.request(ModelCommit(0))) is ErrorCode.HASH_MISMATCH
    info = host.ok(Hello())
    assert info.slots[0].state == SlotState.EMPTY and info.slots[0].received == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=1, max_value=SINE_SIZE - 1), chunk=st.integers(min_value=1, max_value=1020))
def test_resume_at_any_offset_after_restart(tmp_path_factory, clock, sine, cut, chunk):
    """An upload broken off at any byte resumes from exactly that byte, even across a board restart."""
    flash = tmp_path_factory.mktemp("flash")
    first = EngineHost(make_engine("nano33ble", flash, name="r", clock=clock))
    first.boot()
    first.ok(ModelBegin(0, len(sine.data), sha(sine.data), "m", "1"))
    for offset in range(0, cut, chunk):
        first.ok(ModelChunk(offset, sine.data[offset : min(offset + chunk, cut)]))
    second = EngineHost(make_engine("nano33ble", flash, clock=clock))  # power cycle: new process, same flash
    second.boot()
    ack = second.ok(ModelBegin(0, len(sine.data), sha(sine.data), "m", "1"))
    assert ack.offset == cut
    for offset in range(cut, len(sine.data), chunk):
        second.ok(ModelChunk(offset, sine.data[offset : offset + chunk]))
    assert isinstance(second.ok(ModelCommit(0)), CommitAck)
    assert second.ok(ModelBegin(0, len(sine.data), sha(sine.data))).offset == len(sine.data)


def test_begin_with_other_hash_erases(host, sine):
    host.ok(ModelBegin(0, len(sine.data), sha(sine.data)))
    host.ok(ModelChunk(0, sine.data[:500]))
    assert host.ok(ModelBegin(0, len(sine.data), bytes(32))).offset == 0
    assert host.ok(Hello()).slots[0].received == 0


def test_one_upload_at_a_time(host, sine):
    """Chunks carry no slot: a BEGIN on one slot abandons an unfinished upload in the other."""
    host.ok(ModelBegin(0, len(sine.data), sha(sine.data)))
    host.ok(ModelChunk(0, sine.data[:500]))
    host.ok(ModelBegin(1, 100, bytes(32)))
    slots = host.ok(Hello()).slots
    assert slots[0].state == SlotState.EMPTY and slots[1].state == SlotState.RECEIVING


def test_activate_requires_valid(host, sine):
    assert error_code(host.request(ModelActivate(0, 0))) is ErrorCode.NOT_VERIFIED
    host.ok(ModelBegin(0, len(sine.data), sha(sine.data)))
    assert error_code(host.request(ModelActivate(0, 0))) is ErrorCode.NOT_VERIFIED
    assert error_code(host.request(ModelActivate(0, 2))) is ErrorCode.BAD_PAYLOAD
    assert error_code(host.request(ModelActivate(3, 0))) is ErrorCode.BAD_SLOT


def test_confirm_rules(host, sine):
    assert error_code(host.request(ModelConfirm(0))) is ErrorCode.NOT_PENDING
    host.deploy(sine.data, slot=0, mode=ActivateMode.PERMANENT)
    assert host.ok(ModelConfirm(0)).slots[0].state == SlotState.ACTIVE  # already ACTIVE: success
    assert error_code(host.request(ModelConfirm(5))) is ErrorCode.BAD_SLOT


def test_test_activation_rollback_and_reactivate(host, sine):
    host.deploy(sine.data, slot=0, mode=ActivateMode.PERMANENT)
    host.upload(sine.data, slot=1)
    status = host.ok(ModelActivate(1, ActivateMode.TEST))
    assert slot_states(status) == (1, SlotState.ACTIVE, SlotState.PENDING)
    assert host.ok(ModelActivate(1, ActivateMode.TEST)) == status  # already running: status
    status = host.ok(ModelRollback())
    assert slot_states(status) == (0, SlotState.ACTIVE, SlotState.VALID)
    assert host.ok(ModelRollback()) == status  # nothing pending: no change
    status = host.ok(ModelActivate(1, ActivateMode.TEST))
    status = host.ok(ModelConfirm(1))
    assert slot_states(status) == (1, SlotState.VALID, SlotState.ACTIVE)


def test_rollback_without_active_runs_nothing(host, sine):
    host.upload(sine.data, slot=0)
    host.ok(ModelActivate(0, ActivateMode.TEST))
    status = host.ok(ModelRollback())
    assert status.active_slot == NO_SLOT and status.slots[0].state == SlotState.VALID


def test_permanent_activation_demotes_previous(host, sine):
    host.deploy(sine.data, slot=0, mode=ActivateMode.PERMANENT)
    host.upload(sine.data, slot=1)
    status = host.ok(ModelActivate(1, ActivateMode.PERMANENT))
    assert slot_states(status) == (1, SlotState.VALID, SlotState.ACTIVE)


def test_reboot_before_confirm_reverts_to_old_model(host, sine):
    host.deploy(sine.data, slot=0, mode=ActivateMode.PERMANENT)
    host.upload(sine.data, slot=1)
    host.ok(ModelActivate(1, ActivateMode.TEST))
    host.events.clear()
    assert host.request(Reboot(0)) == RebootAck()
    assert host.events[0] == Boot(reason=1, boot_count=2)
    assert states(host) == (0, SlotState.ACTIVE, SlotState.VALID)


def test_persistence_across_restart(tmp_path, clock, sine):
    flash = tmp_path / "flash"
    first = EngineHost(make_engine("pico", flash, name="p", clock=clock))
    first.boot()
    first.deploy(sine.data, slot=1, mode=ActivateMode.PERMANENT)
    uid = first.engine.config.uid
    second = EngineHost(make_engine("pico", flash, clock=clock))
    second.boot()
    info = second.ok(Hello())
    assert info.uid == uid and info.active_slot == 1 and info.slots[1].state == SlotState.ACTIVE
    assert second.events[0] == Boot(reason=0, boot_count=2)
    assert second.engine.model is not None and second.engine.model.sha256 == sha(sine.data)


def test_pending_in_flash_reverts_at_boot(tmp_path, clock, sine):
    flash = tmp_path / "flash"
    first = EngineHost(make_engine("pico", flash, name="p", clock=clock))
    first.boot()
    first.upload(sine.data, slot=0)
    first.ok(ModelActivate(0, ActivateMode.TEST))
    second = EngineHost(make_engine("pico", flash, clock=clock))  # killed before CONFIRM
    second.boot()
    assert states(second) == (NO_SLOT, SlotState.VALID, SlotState.EMPTY)


@pytest.mark.parametrize("mode", [ActivateMode.TEST, ActivateMode.PERMANENT])
def test_activate_running_slot_answers_status(host, sine, mode):
    host.deploy(sine.data, slot=0, mode=ActivateMode.PERMANENT)
    assert host.ok(ModelActivate(0, mode)).active_slot == 0
