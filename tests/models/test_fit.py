"""check_fit against the built-in board profiles."""

from __future__ import annotations

import pytest

from fleet.models.bundled import bundled_model
from fleet.models.fit import check_fit
from fleet.models.inspect import inspect_model
from fleet.profiles import get_profile, load_profiles

from .conftest import custom_op_sine


def _gesture():
    return inspect_model(bundled_model("gesture").read_bytes())


# model -> its measured arena (see test_arena)
@pytest.mark.parametrize(("name", "arena"), [("gesture", 3152), ("person_detect.tflite", 85264)])
def test_fits_every_board(shared_model, name: str, arena: int) -> None:
    data = bundled_model(name).read_bytes() if name == "gesture" else shared_model(name)
    info = inspect_model(data)
    for profile in load_profiles().values():
        report = check_fit(info, arena, profile)
        assert report.ok, report.message
        assert report.message.startswith(f"fits {profile.title} ({profile.name})")


def test_each_limit_named_with_board_limit_and_number() -> None:
    info = _gesture()
    pico = get_profile("pico")
    report = check_fit(info, pico.arena_bytes + 1, pico)
    assert not report.ok and report.slot.ok and report.ops.ok and not report.arena.ok
    assert (report.arena.needed, report.arena.limit) == (pico.arena_bytes + 1, pico.arena_bytes)
    assert report.message == (
        f"does not fit Raspberry Pi Pico (pico): arena {pico.arena_bytes + 1} B exceeds the "
        f"{pico.arena_bytes} B tensor arena"
    )


def test_slot_too_small() -> None:
    info = _gesture()
    profile = get_profile("nano33ble").model_copy(update={"slot_bytes": 5551})
    report = check_fit(info, 3152, profile)
    assert not report.slot.ok
    assert "model 5552 B exceeds the 5551 B model slot" in report.message


def test_unsupported_ops_listed() -> None:
    info = _gesture()
    profile = get_profile("pico").model_copy(update={"ops": frozenset({"RESHAPE", "FULLY_CONNECTED", "SOFTMAX"})})
    report = check_fit(info, 3152, profile)
    assert not report.ops.ok and report.slot.ok and report.arena.ok
    assert report.unsupported_ops == ("CONV_2D", "AVERAGE_POOL_2D")  # in the model's order
    assert report.ops.needed == len(report.unsupported_ops)
    assert report.message == "does not fit Raspberry Pi Pico (pico): unsupported operators: CONV_2D, AVERAGE_POOL_2D"


def test_custom_op_listed_by_name() -> None:
    info = inspect_model(custom_op_sine("FleetTestOp"))
    report = check_fit(info, 2192, get_profile("pico"))
    assert not report.ops.ok and report.unsupported_ops == ("FleetTestOp",)
    assert report.message == "does not fit Raspberry Pi Pico (pico): unsupported operators: FleetTestOp"


def test_custom_ops_listed_by_name(shared_model) -> None:
    info = inspect_model(shared_model("audio_preprocessor_int8.tflite"))  # the one example with custom ops
    report = check_fit(info, 10216, get_profile("pico"))
    assert not report.ops.ok
    assert report.unsupported_ops[:2] == ("SignalWindow", "SignalFftAutoScale")
    assert report.ops.needed == len(report.unsupported_ops)
    assert "unsupported operators: SignalWindow, SignalFftAutoScale" in report.message
