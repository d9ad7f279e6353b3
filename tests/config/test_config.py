"""devices.toml: the shipped file is valid, good files load, and every bad file gives one
clear message naming the file, the line, the key and what was expected."""

import textwrap
from pathlib import Path

import pytest

from fleet.config import find_config, load_config, parse_config
from fleet.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_devices_toml_is_valid():
    cfg = load_config(ROOT / "devices.toml")
    assert cfg.rollout.strategy == "canary"
    assert cfg.defaults.baud == 115200


def test_a_full_file_loads():
    cfg = parse_config(
        textwrap.dedent(
            """
            [defaults]
            baud = 921600
            [boards.lab-nano]
            match = { vid = 0x2341, pid = 0x805A }
            profile = "nano33ble"
            tags = ["audio"]
            [boards.far]
            url = "rfc2217://127.0.0.1:7001"
            baud = 115200
            [boards.by-uid]
            uid = "E4B2C1D0A1B2C3D4"
            [groups]
            bench = ["lab-nano", "far"]
            """
        ),
        Path("devices.toml"),
    )
    assert cfg.boards["lab-nano"].match.vid == 0x2341
    assert cfg.baud_for(cfg.boards["lab-nano"]) == 921600
    assert cfg.baud_for(cfg.boards["far"]) == 115200
    assert cfg.boards["by-uid"].uid == "e4b2c1d0a1b2c3d4"
    assert cfg.groups["bench"] == ("lab-nano", "far")


BAD_FILES = [
    # (toml, line, key, expectation fragment)
    ("[defaults]\nbaud = 0\n", 2, "defaults.baud", "greater than 0, got 0"),
    ("[defaults]\nbaud = 'fast'\n", 2, "defaults.baud", "should be a valid integer"),
    ("[defaults]\nbawd = 9600\n", 2, "defaults.bawd", "unknown key"),
    ("[boards.a]\nport = '/dev/x'\nprofile = 'arduino-uno'\n", 3, "boards.a.profile", "unknown profile 'arduino-uno'"),
    ("[boards.a]\nprofile = 'pico'\n", 1, "boards.a", "needs one of port, url, match or uid"),
    ("[boards.a]\nport = '/dev/x'\nurl = 'rfc2217://h:1'\n", 1, "boards.a", "either port or url"),
    ("[boards.a]\nurl = 'http://h:1'\n", 2, "boards.a.url", "rfc2217://"),
    ("[boards.a]\nmatch = { vid = 70000 }\n", 2, "boards.a.match.vid", "less than or equal to 65535"),
    ("[boards.a]\nmatch = {}\n", 2, "boards.a.match", "at least one of vid"),
    ("[boards.a]\nuid = 'xyz'\n", 2, "boards.a.uid", "hex digits"),
    ("[boards.a]\nport = '/dev/x'\ntags = ['has space']\n", 3, "boards.a.tags", "letters, digits"),
    ("[boards.a]\nport = '/dev/x'\n[groups]\ng = ['a', 'b']\n", 3, "groups", "unknown boards ['b']"),
    ("[rollout]\nstrategy = 'yolo'\n", 2, "rollout.strategy", "'all' or 'canary', got 'yolo'"),
    ("[rollout]\nconcurrency = 0\n", 2, "rollout.concurrency", "greater than or equal to 1"),
    ("boards = 3\n", 1, "boards", "valid dictionary"),
    ("[mqtt]\ntopic_prefix = 'lab'\n", 1, "mqtt.url", "required key is missing"),
    ("[mqtt]\nurl = 'http://broker:1883'\n", 2, "mqtt.url", "expected an MQTT broker URL"),
    ("[mqtt]\nurl = 'mqtt://broker:99999'\n", 2, "mqtt.url", "port number 1..65535"),
    ("[mqtt]\nurl = 'mqtt://:1883'\n", 2, "mqtt.url", "broker host name"),
    ("[mqtt]\nurl = 'mqtt://broker/fleet'\n", 2, "mqtt.url", "no path or query"),
    ("[mqtt]\nurl = 'mqtt://broker'\ntopic_prefix = 'lab/#'\n", 3, "mqtt.topic_prefix", "without '+', '#'"),
    ("[mqtt]\nurl = 'mqtt://broker'\nqos = 3\n", 3, "mqtt.qos", "less than or equal to 2"),
    ("[mqtt]\nurl = 'mqtt://broker'\nretain = true\n", 3, "mqtt.retain", "unknown key"),
    ("[boards.a\nport = 1\n", None, "", "not valid TOML"),
    ("[boards.a]\nport = '/dev/x'\n[boards.b]\nprofile = 'pico'\nport = '/dev/x'\n", 5, "boards.b.port",
     "board 'a' has this port already (/dev/x)"),
    ("[boards.a]\nurl = 'rfc2217://Lab:7001'\n[boards.b]\nurl = 'socket://lab:7001'\n", 4, "boards.b.url",
     "board 'a' has this port already (socket://lab:7001)"),
    ("[boards.a]\nuid = 'AB01'\n\n[boards.b]\nport = '/dev/y'\nuid = 'ab01'\n", 6, "boards.b.uid",
     "board 'a' has this uid already (ab01)"),
]


@pytest.mark.parametrize("text,line,key,expected", BAD_FILES, ids=[b[2] or "syntax" for b in BAD_FILES])
def test_bad_files_name_file_line_key_and_expectation(tmp_path, text, line, key, expected):
    path = tmp_path / "devices.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: " if line else f"{path}")
    assert key in message
    assert expected in message
    assert len(message.splitlines()) == 1


def test_mqtt_table_loads_with_defaults_and_parses_the_url():
    from fleet.config import parse_mqtt_url

    cfg = parse_config("[mqtt]\nurl = 'mqtt://user:s%40cret@broker.lab'\n", Path("devices.toml"))
    assert cfg.mqtt is not None and (cfg.mqtt.topic_prefix, cfg.mqtt.qos) == ("fleet", 0)
    assert parse_mqtt_url(cfg.mqtt.url) == ("broker.lab", 1883, False, "user", "s@cret")
    assert parse_mqtt_url("mqtts://b").port == 8883
    assert parse_config("", Path("devices.toml")).mqtt is None


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")


def test_lookup_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLEET_CONFIG", raising=False)
    assert find_config() is None
    assert load_config().boards == {}
    (tmp_path / "devices.toml").write_text("[defaults]\nbaud = 9600\n")
    assert load_config().defaults.baud == 9600
    other = tmp_path / "other.toml"
    other.write_text("[defaults]\nbaud = 19200\n")
    monkeypatch.setenv("FLEET_CONFIG", str(other))
    assert load_config().defaults.baud == 19200
    assert find_config("x.toml") == Path("x.toml")


def test_one_port_through_a_symlink_is_one_port(tmp_path):
    device = tmp_path / "ttyACM0"
    device.touch()
    (tmp_path / "by-id").symlink_to(device)
    text = f"[boards.a]\nport = '{device}'\n[boards.b]\nport = '{tmp_path / 'by-id'}'\n"
    with pytest.raises(ConfigError, match=r"devices.toml:4: boards.b.port: board 'a' has this port already"):
        parse_config(text, Path("devices.toml"))
    assert len(parse_config("[boards.a]\nurl = 'loop://'\n[boards.b]\nurl = 'loop://'\n", Path("d")).boards) == 2
