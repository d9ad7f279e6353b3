"""What every board must do, checked on each kind of board through one serial session
(tests/behaviour/boards.py): a virtual board, the POSIX firmware with TFLM and the
firmware with TFLM + CMSIS-NN on an emulated Cortex-M4. Deploy and stream results equal to
the TFLM interpreter, resume an upload after the host goes away and after a power cycle,
roll back, revert an unconfirmed model at reboot, keep a confirmed one across power."""

from __future__ import annotations

import hashlib

import pytest

from fleet.protocol import Boot, BootReason, LogLevel, ModelBegin, ModelCommit, ModelRollback, Reboot, SlotState
from fleet.protocol import Stream, StreamConfig
from tests.support.board_link import check_results, deploy
from tests.firmware.models import sine, variant

# The first firmware board builds its TFLM library (minutes on two cores).
pytestmark = pytest.mark.timeout(3000)


def results(board, link, model: bytes, count: int):
    return check_results(link, model, count, expected=board.expected, counts_from_boot=board.counts_from_boot)


def test_deploy_streams_results_equal_to_tflm(board):
    model = sine()
    board.prepare(model)
    link = board.link()
    arena = link.upload(model, 0, "sine", "1.0.0")
    assert 0 < arena < 4096
    deploy(link, model, 0)
    applied = link.request(StreamConfig(Stream.RESULTS, LogLevel.INFO, 0, 100, 0))
    assert applied.streams == Stream.RESULTS
    got = results(board, link, model, 300)  # more than 256: the firmware's sweep wraps
    assert len({r.input_id for r in got}) == 300
    info = link.hello()
    assert info.active_slot == 0 and info.slots[0].name == "sine" and info.slots[0].version == "1.0.0"
    link.close()


def test_resume_after_the_host_disconnects(board):
    model = sine()
    board.prepare(model)
    digest = hashlib.sha256(model).digest()
    link = board.link()
    info = link.hello()
    assert link.request(ModelBegin(1, len(model), digest, "hw", "1")).offset == 0
    assert link.send_chunks(model, 0, 500, info.rx_window, stop_at=1500) == 1500
    link.close()  # the host goes away mid-upload

    link = board.link()
    begin = link.request(ModelBegin(1, len(model), digest, "hw", "1"))
    assert begin.offset == 1500  # resumes, nothing erased
    link.send_chunks(model, begin.offset, 1020, info.rx_window)
    assert link.request(ModelCommit(1)).slot == 1
    link.close()


def test_resume_survives_a_power_cycle(board):
    model = sine()
    board.prepare(model)
    link = board.link()
    link.request(ModelBegin(0, len(model), hashlib.sha256(model).digest(), "hw", "1"))
    link.send_chunks(model, 0, 1000, 4096, stop_at=2000)
    link.close()
    board.power_cycle()
    link = board.link()
    assert link.hello().slots[0].received == 2000
    assert link.upload(model, 0) > 0  # BEGIN resumes at 2000
    link.close()


def test_rollback_returns_to_the_confirmed_model(board):
    old, new = sine(), variant(1)
    board.prepare(old, new)
    link = board.link()
    deploy(link, old, 0)
    link.request(StreamConfig(Stream.RESULTS, LogLevel.INFO, 0, 100, 0))
    deploy(link, new, 1, confirm=False)
    link.events.clear()
    results(board, link, new, 5)
    status = link.request(ModelRollback())
    assert status.active_slot == 0
    assert status.slots[0].state == SlotState.ACTIVE and status.slots[1].state == SlotState.VALID
    link.events.clear()
    results(board, link, old, 5)
    link.close()


def test_reboot_before_confirm_reverts(board):
    old, new = sine(), variant(2)
    board.prepare(old, new)
    link = board.link()
    deploy(link, old, 0)
    deploy(link, new, 1, confirm=False)
    link.events.clear()
    link.request(Reboot(0))
    assert link.take_events(Boot, 1)[0].reason == BootReason.REQUESTED
    info = link.hello()
    assert info.active_slot == 0
    assert info.slots[0].state == SlotState.ACTIVE and info.slots[1].state == SlotState.VALID
    link.request(StreamConfig(Stream.RESULTS, LogLevel.INFO, 0, 100, 0))  # streams are off after a boot
    results(board, link, old, 5)
    link.close()


def test_power_cycle_keeps_the_confirmed_model(board):
    model = sine()
    board.prepare(model)
    link = board.link()
    deploy(link, model, 0)
    link.close()
    board.power_cycle()
    link = board.link()
    assert link.hello().active_slot == 0
    link.request(StreamConfig(Stream.RESULTS, LogLevel.INFO, 0, 100, 0))
    results(board, link, model, 5)
    link.close()
