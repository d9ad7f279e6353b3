"""What virtual boards answer to RUNTIME: their profile's operators, minus any the host
interpreter lacks, and an honest error when there is no interpreter to ask."""

from __future__ import annotations

import pytest

from fleet.error_codes import ErrorCode
from fleet.errors import ModelToolMissing
from fleet.profiles import get_profile
from fleet.protocol import Error, Runtime
from fleet.sim import runtime


@pytest.fixture
def fresh_answers():
    runtime._answer.cache_clear()
    yield
    runtime._answer.cache_clear()


def test_a_profile_operator_the_interpreter_lacks_is_not_claimed(fresh_answers):
    profile = get_profile("pico").model_copy(update={"ops": frozenset({"CONV_2D", "LSTM", "SignalWindow"})})
    answer = runtime.board_runtime(profile)
    assert (answer.builtins, answer.customs) == ((3,), ("SignalWindow",))  # LSTM has no TFLM kernel


def test_a_custom_name_longer_than_32_bytes_is_claimed(fresh_answers):
    # RUNTIME's custom names run to 64 bytes (PROTOCOL.md); TFLM's own reach 35.
    profile = get_profile("pico").model_copy(update={"ops": frozenset({"SignalFilterBankSpectralSubtraction"})})
    assert runtime.board_runtime(profile).customs == ("SignalFilterBankSpectralSubtraction",)


def test_without_an_interpreter_warm_is_quiet_and_the_board_says_why(fresh_answers, host, monkeypatch):
    def missing(names):
        raise ModelToolMissing("listing the host interpreter's operators needs tflite-micro")

    monkeypatch.setattr(runtime, "host_ops", missing)
    runtime.warm([host.engine.profile])
    answer = host.request(Runtime())
    assert isinstance(answer, Error) and answer.code == ErrorCode.INTERNAL
    assert answer.text == "cannot list operators: listing the host interpreter's operators needs tflite-micro"
