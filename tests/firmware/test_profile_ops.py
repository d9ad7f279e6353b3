"""The `nano33ble` profile's operator list is what the Nano 33 BLE firmware registers: the
port compiles the shared TFLM runner, whose resolver registers every line of
runner/tflm/fw_tflm_ops.inc. Host pre-flight and `fleet model inspect` judge a model by the
profile, so a list that lags the firmware refuses models the board runs (and one that
leads it sends models the board refuses). No build: the sources are read."""

from __future__ import annotations

import configparser

from fleet.profiles import get_profile
from tests.support.firmware import FIRMWARE, TFLM_OPS_INC, tflm_registered_ops

PORT = FIRMWARE / "ports" / "nano33ble"


def drift(profile_ops: frozenset[str], inc_text: str | None = None) -> tuple[list[str], list[str]]:
    """(registered by the firmware but missing from the profile, in the profile but not registered)."""
    builtins, customs = tflm_registered_ops(inc_text)
    registered = {*builtins, *customs}
    return sorted(registered - profile_ops), sorted(profile_ops - registered)


def test_nano33ble_profile_lists_exactly_the_operators_its_firmware_registers():
    missing, extra = drift(get_profile("nano33ble").ops)
    assert (missing, extra) == ([], []), (
        f"fleet/profiles.toml [nano33ble] ops: missing {missing}, not registered {extra} (see {TFLM_OPS_INC})")


def test_drift_is_told_both_ways():
    ops = get_profile("nano33ble").ops
    text = TFLM_OPS_INC.read_text()
    assert "FW_TFLM_BUILTIN(AddCast, CAST)\n" in text and "CAST" in ops
    assert drift(ops, text.replace("FW_TFLM_BUILTIN(AddCast, CAST)\n", "")) == ([], ["CAST"])
    assert drift(ops - {"SignalRfft"}) == (["SignalRfft"], [])


def test_the_nano33ble_port_compiles_the_shared_runner_and_its_operator_list():
    """What the port builds decides what it registers: the shared runner, with the shared
    fw_tflm_ops.inc first on its include path (no copy of its own in the port)."""
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(PORT / "platformio.ini")
    env = ini["env:nano33ble"]
    assert "+<../../../runner/tflm/fw_tflm_runner.cpp>" in env["build_src_filter"].split()
    includes = [flag[2:] for flag in env["build_flags"].split() if flag.startswith("-I")]
    # build_flags are relative to the port folder; the first folder holding the file wins.
    holders = [d for d in includes if (PORT / d / "fw_tflm_ops.inc").is_file()]
    assert holders and (PORT / holders[0] / "fw_tflm_ops.inc").resolve() == TFLM_OPS_INC.resolve()
    assert not list(PORT.rglob("fw_tflm_ops.inc"))
    assert "fw_tflm_runner_make(" in (PORT / "src" / "main.cpp").read_text()
