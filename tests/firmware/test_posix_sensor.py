"""The POSIX board with its simulated INA219/INA226 (`--sensor`): the real driver reads a
register-level model of the part over the I2C HAL, the board declares POWER_SENSOR, and
`fleet monitor --json` labels its POWER `sensor`, while a board without one stays
`modelled`."""

from __future__ import annotations

import json
import os

import pytest

from fleet.protocol import Capability, LogLevel, Power, Stream, StreamConfig
from tests.support.cli import LiveMonitor
from tests.support.firmware import PosixBoard


@pytest.mark.parametrize(("chip", "bus_mv"), [("ina219", 3296), ("ina226", 3297)])
def test_the_board_declares_and_streams_its_sensor(posix_binary, tmp_path, chip, bus_mv):
    board = PosixBoard(posix_binary, tmp_path / "state", "--uid", "5e450001", "--sensor", chip)
    try:
        link = board.link()
        info = link.hello()
        assert info.capabilities & Capability.POWER_SENSOR
        applied = link.request(StreamConfig(Stream.POWER, LogLevel.INFO, 0, 1, 0))
        assert applied.power_interval_ms >= 10  # no faster than the part converts (~9-11 ms)
        samples = link.take_events(Power, 5)
        # The part's quantised figures (2 mA through 1 ohm; the bus 2 mV below 3.3 V in the
        # part's LSBs), not the model's 2000 uA at 3300 mV.
        assert {(s.voltage_mv, s.current_ua) for s in samples} == {(bus_mv, 1999)}
        assert samples[-1].energy_uj > samples[0].energy_uj
        link.close()
    finally:
        board.stop()


def test_fleet_monitor_labels_sensor_power(posix_binary, tmp_path):
    sensed = PosixBoard(posix_binary, tmp_path / "a", "--uid", "5e450002", "--sensor", "ina226")
    modelled = PosixBoard(posix_binary, tmp_path / "b", "--uid", "5e450003")
    try:
        (tmp_path / "devices.toml").write_text(
            f'[boards.sensed]\nport = "{sensed.path}"\n[boards.modelled]\nport = "{modelled.path}"\n'
        )
        env = {**os.environ, "FLEET_CONFIG": str(tmp_path / "devices.toml"), "FLEET_CACHE_DIR": str(tmp_path / "c")}
        names = ("sensed", "modelled")
        monitor = LiveMonitor(env, tmp_path)
        try:
            monitor.wait_until(lambda seen: {e["board"] for e in seen if e["kind"] == "power"} == set(names),
                               "power samples from both boards")  # fmt: skip
        finally:
            code, stdout, err = monitor.stop()
        assert code == 0, err
        events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
        power = {(e["board"], e["source"], e["current_ua"]) for e in events if e["kind"] == "power"}
        assert power == {("sensed", "sensor", 1999), ("modelled", "modelled", 2000)}, power
    finally:
        sensed.stop()
        modelled.stop()
