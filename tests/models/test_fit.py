"""check_fit against the built-in board profiles."""

from __future__ import annotations

from fleet.models.fit import check_fit
from fleet.models.inspect import inspect_model
from fleet.profiles import get_profile, load_profiles


def test_person_detect_fits_every_board(shared_model) -> None:
    info = inspect_model(shared_model("person_detect.tflite"))
    for profile in load_profiles().values():
        report = check_fit(info, 85264, profile)
        assert report.ok, report.message
        assert report.message.startswith(f"fits {profile.title} ({profile.name})")


def test_each_limit_named_with_board_limit_and_number(shared_model) -> None:
    info = inspect_model(shared_model("person_detect.tflite"))
    pico = get_profile("pico")
    report = check_fit(info, pico.arena_bytes + 1, pico)
    assert not report.ok and report.slot.ok and report.ops.ok and not report.arena.ok
    assert (report.arena.needed, report.arena.limit) == (pico.arena_bytes + 1, pico.arena_bytes)
    assert report.message == (
        f"does not fit Raspberry Pi Pico (pico): arena {pico.arena_bytes + 1} B exceeds the "
        f"{pico.arena_bytes} B tensor arena"
    )


def test_slot_too_small(shared_model) -> None:
    info = inspect_model(shared_model("person_detect.tflite"))
    profile = get_profile("nano33ble").model_copy(update={"slot_bytes": 300_000})
    report = check_fit(info, 85264, profile)
    assert not report.slot.ok
    assert "model 300568 B exceeds the 300000 B model slot" in report.message


def test_unsupported_ops_listed(shared_model) -> None:
    info = inspect_model(shared_model("audio_preprocessor_int8.tflite"))
    report = check_fit(info, 10216, get_profile("pico"))
    assert not report.ops.ok
    assert report.unsupported_ops[:2] == ("SignalWindow", "SignalFftAutoScale")
    assert report.ops.needed == len(report.unsupported_ops)
    assert "unsupported operators: SignalWindow, SignalFftAutoScale" in report.message
