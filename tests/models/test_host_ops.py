"""The host interpreter's operators, probed: what virtual boards claim in RUNTIME."""

from __future__ import annotations

import pytest

from fleet.models import host_ops as module
from fleet.models.host_ops import EVERY_BUILTIN, host_ops, runtime_name

pytest.importorskip("tflite_micro")


def test_probe_tells_registered_operators_from_missing_ones():
    found = host_ops(["FULLY_CONNECTED", "CONV_2D", "LSTM", "FleetNoSuchOp"])
    # LSTM (the TFLite op, not UNIDIRECTIONAL_SEQUENCE_LSTM) has no TFLM kernel.
    assert found.registered == {"FULLY_CONNECTED", "CONV_2D"}
    assert found.runtime.startswith("tflite-micro ") and found.runtime.endswith(" reference")


def test_every_builtin_includes_what_the_example_models_use():
    registered = host_ops().registered
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "RESHAPE", "SOFTMAX", "FULLY_CONNECTED"} <= registered
    assert registered < set(EVERY_BUILTIN)


def test_answers_come_from_the_disk_cache_once_probed(monkeypatch):
    first = host_ops(["CONV_2D", "LSTM"])
    monkeypatch.setattr(module, "_known", {})  # a new process: only the disk cache remains

    def no_probe(names):
        raise AssertionError(f"probed again: {names}")

    monkeypatch.setattr(module, "_probe", no_probe)
    assert host_ops(["LSTM", "CONV_2D"]) == first


@pytest.mark.parametrize(
    ("version", "name"),
    [
        ("0.dev20261023182759-g8f6596d", "tflite-micro 8f6596d reference"),
        ("0.1.0", "tflite-micro 0.1.0 reference"),
        ("0.dev20261023182759", "tflite-micro 0.dev2026 reference"),  # cut to the 32-byte limit
    ],
)
def test_runtime_name_fits_the_protocol_limit(version, name):
    assert runtime_name(version) == name and len(name.encode()) <= 32
