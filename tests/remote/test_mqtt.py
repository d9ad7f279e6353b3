"""Telemetry to an MQTT broker: topics and payloads, broker restarts, a missing broker,
and `fleet monitor --mqtt` / devices.toml [mqtt] against a real mosquitto on loopback."""

from __future__ import annotations

import asyncio
import getpass
import json
import subprocess
import threading
import time

import pytest

from fleet.config import FleetConfig, parse_config, parse_mqtt_url
from fleet.errors import ConfigError, ExportError
from fleet.export.mqtt import MqttExporter, exporter_from
from fleet.export.topics import board_level, message_for
from fleet.manager import FleetManager
from fleet.telemetry.events import LinkEvent, LogEvent, PowerEvent, ResultEvent, StateEvent, parse_event
from fleet.telemetry.fanout import EventHub
from tests.remote.daemons import Mosquitto, Sim, free_port, make_test_pki, missing
from tests.support.cli import LiveMonitor
from tests.support.wait import until

paho = pytest.importorskip("paho.mqtt.client", reason="needs paho-mqtt (pip install 'paho-mqtt>=2.0')")

RESULT = ResultEvent(board="lab/nano#1", uid="ab", host_time=1.0, device_time_us=5, latency_us=900, inference_count=3,
                     input_id=1, model="fe1faa9d", dtype="int8", values=(0.1, 0.9), top_index=1, score=0.9, label="wave")
POWER = PowerEvent(board="b1", uid="ab", host_time=1.0, device_time_us=6, voltage_mv=3300, current_ua=6000,
                   energy_uj=10, power_mw=19.8)
STATE = StateEvent(board="b1", uid="ab", host_time=1.0, state="online", port="rfc2217://127.0.0.1:7001")


class Subscriber:
    """A paho client that collects every message under a topic filter."""

    def __init__(self, port: int, topic: str = "#", setup=None) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self.ready = threading.Event()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2)
        if setup is not None:
            setup(self.client)  # TLS, a password
        self.client.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *a: self.ready.set()
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload, m.retain))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.ready.wait(10), "subscriber did not connect"

    def wait_for(self, predicate, timeout_s: float = 20.0) -> list[tuple[str, bytes, bool]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate(self.messages):
                return self.messages
            time.sleep(0.05)
        raise AssertionError(f"timed out; got {[m[0] for m in self.messages]}")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_topics_and_payloads():
    out = message_for(RESULT, "fleet")
    assert out.topic == "fleet/lab_nano_1/result" and not out.retain
    assert parse_event(out.payload) == RESULT
    assert message_for(STATE, "lab/fleet").topic == "lab/fleet/b1/state" and message_for(STATE, "x").retain
    assert message_for(POWER, "fleet").topic == "fleet/b1/power"
    assert message_for(LinkEvent(board="b1", uid="ab", host_time=1.0), "fleet") is None
    assert board_level("") == "_"
    # A meter's own log (no board: uid empty) under meters/, where no board's name reaches.
    note = LogEvent(board="meter:ppk2 C3/A1", uid="", host_time=1.0, device_time_us=0, level=2, text="not read")
    assert message_for(note, "fleet").topic == "fleet/meters/ppk2-C3_A1/log"
    board_log = LogEvent(board="meters", uid="ab", host_time=1.0, device_time_us=0, level=2, text="x")
    assert message_for(board_log, "fleet").topic == "fleet/meters/log"


async def test_without_a_broker_events_are_dropped_and_counted_never_waited_for():
    exporter = MqttExporter(parse_mqtt_url(f"mqtt://127.0.0.1:{free_port()}"))  # nothing listens there
    exporter.start()
    try:
        started = time.perf_counter()
        for _ in range(10_000):
            exporter.publish_event(RESULT)
        # Not a speed test: a publish that waited for the broker at all (a connect, an ack:
        # milliseconds at least) would take 30 s over 10,000 events; dropping takes ~0.1 s
        # of CPU, so even a machine loaded a hundredfold finishes inside this bound.
        assert time.perf_counter() - started < 10_000 * 0.003
        assert (exporter.published, exporter.dropped) == (0, 10_000)
    finally:
        await exporter.stop(timeout_s=1.0)


def test_a_connection_is_counted_only_once_the_exporter_shows_it_connected():
    # paho calls _on_connect in its own thread; the exporter's status publish runs between
    # the two updates. Counting first let a caller that waited for `connects` publish while
    # `connected` was still false, and its event was dropped (a CI run of the broker-restart
    # test below lost its result so).
    exporter = MqttExporter(parse_mqtt_url("mqtt://127.0.0.1:1883"), prefix="lab")
    seen = []

    class Client:
        def publish(self, topic, payload, qos, retain):
            seen.append((topic, exporter.connects, exporter.connected))

    exporter._on_connect(Client(), None, None, None, None)
    assert seen == [("lab/exporter", 0, False)]
    assert (exporter.connects, exporter.connected) == (1, True)


@pytest.mark.system
async def test_exporter_publishes_per_board_topics_and_survives_a_broker_restart(mosquitto):
    sub = await asyncio.to_thread(Subscriber, mosquitto.port)
    hub = EventHub()
    exporter = MqttExporter(parse_mqtt_url(mosquitto.url), prefix="lab", qos=1)
    exporter.start()
    consumer = hub.subscribe(maxsize=100, name="mqtt")
    task = asyncio.create_task(exporter.run(consumer))
    try:
        assert await exporter.wait_connected(10)
        for event in (STATE, RESULT, POWER):
            hub.publish(event)
        msgs = await asyncio.to_thread(sub.wait_for, lambda m: len([t for t, _, _ in m if t != "lab/exporter"]) >= 3)
        by_topic = {t: p for t, p, _ in msgs}
        assert parse_event(by_topic["lab/b1/state"]) == STATE
        assert parse_event(by_topic["lab/lab_nano_1/result"]) == RESULT
        assert parse_event(by_topic["lab/b1/power"]).power_mw == pytest.approx(19.8)
        assert json.loads(by_topic["lab/exporter"])["state"] == "online"

        sub.close()
        await asyncio.to_thread(mosquitto.stop)
        await until(lambda: not exporter.connected, "the exporter saw the broker go")
        dropped = exporter.dropped
        hub.publish(POWER)  # the broker is down: dropped, counted, nothing waits
        await until(lambda: exporter.dropped > dropped, "the event published while the broker is down was dropped")
        assert not exporter.connected
        await asyncio.to_thread(mosquitto.start)
        sub = await asyncio.to_thread(Subscriber, mosquitto.port)
        await until(lambda: exporter.connects >= 2, "paho reconnected by itself")
        assert exporter.connects == 2
        hub.publish(RESULT)
        await asyncio.to_thread(sub.wait_for, lambda m: any(t == "lab/lab_nano_1/result" for t, _, _ in m))
    finally:
        hub.close()
        await task
        await exporter.stop()
        sub.close()


def monitor_until_results_and_power(env, cwd, *args: str) -> tuple[int, str]:
    """`fleet monitor --json ARGS` until it has shown a result and a power sample, then
    Ctrl-C; its exit code and stderr."""
    monitor = LiveMonitor(env, cwd, *args)
    try:
        monitor.wait_until(lambda seen: {"result", "power"} <= {e["kind"] for e in seen}, "a result and a power sample")
    finally:
        code, _, err = monitor.stop()
    return code, err


@pytest.mark.system
def test_monitor_mqtt_publishes_results_and_power_per_board(mosquitto, env, tmp_path):
    sim = Sim(tmp_path, 921600, "--model", str(_sine()))
    sub = Subscriber(mosquitto.port)
    try:
        (tmp_path / "devices.toml").write_text(f'[boards.bench1]\nport = "{sim.port}"\n')
        code, err = monitor_until_results_and_power(env, tmp_path, "--mqtt", mosquitto.url)
        assert code == 0, err
        assert "published" in err and f"to {mosquitto.url} under fleet/" in err
        topics = {t for t, _, _ in sub.wait_for(lambda m: {"fleet/bench1/result", "fleet/bench1/power"}
                                                <= {t for t, _, _ in m})}  # fmt: skip
        assert "fleet/bench1/state" in topics
        # Said goodbye at the end (the broker passes it on in its own time: waited for).
        sub.wait_for(lambda m: any(t == "fleet/exporter" and json.loads(p)["state"] == "offline" for t, p, _ in m))
        offline = [json.loads(p) for t, p, _ in sub.messages if t == "fleet/exporter"]
        assert offline[-1]["state"] == "offline"

        # The same from devices.toml, with its own prefix.
        (tmp_path / "devices.toml").write_text(f'[boards.bench1]\nport = "{sim.port}"\n'
                                               f'[mqtt]\nurl = "{mosquitto.url}"\ntopic_prefix = "lab/bench"\n')  # fmt: skip
        code, err = monitor_until_results_and_power(env, tmp_path)
        assert code == 0, err
        sub.wait_for(lambda m: any(t == "lab/bench/bench1/result" for t, _, _ in m))
    finally:
        sub.close()
        sim.stop()


def test_mqtt_settings_from_devices_toml_and_the_command_line(tmp_path):
    cfg = parse_config('[mqtt]\nurl = "mqtt://broker:1884"\ntopic_prefix = "lab"\nqos = 1\n', tmp_path / "d.toml")
    exporter = exporter_from(None, cfg)
    assert (exporter.url, exporter.prefix, exporter.qos) == ("mqtt://broker:1884", "lab", 1)
    assert exporter_from("mqtt://other", cfg).url == "mqtt://other:1883"  # --mqtt wins, settings stay
    assert exporter_from(None, parse_config("", tmp_path / "d.toml")) is None


def _sine():
    from fleet.models.bundled import bundled_model

    return bundled_model("sine")


def test_a_bad_broker_url_is_reported_without_its_password(tmp_path):
    with pytest.raises(ConfigError) as info:
        exporter_from("mqtt://ann:s3cret@broker:99999", None)
    assert "s3cret" not in str(info.value) and "mqtt://ann:***@broker:99999" in str(info.value)
    with pytest.raises(ConfigError) as info:
        parse_config('[mqtt]\nurl = "mqtt://ann:s3cret@broker/path"\n', tmp_path / "d.toml")
    assert "s3cret" not in str(info.value) and "ann:***@broker" in str(info.value)


@pytest.fixture
def no_password_env(monkeypatch):
    monkeypatch.delenv("FLEET_MQTT_PASSWORD", raising=False)
    return monkeypatch


def test_the_password_comes_from_a_file_or_the_environment(tmp_path, no_password_env):
    pw = tmp_path / "pw"
    pw.write_text("s3cret\n")
    exporter = exporter_from("mqtt://ann@broker", None, password_file=pw)
    assert (exporter.broker.username, exporter.broker.password) == ("ann", "s3cret")
    assert exporter.url == "mqtt://broker:1883"  # what fleet prints never has the password
    cfg = parse_config('[mqtt]\nurl = "mqtt://ann@broker"\npassword_file = "pw"\n', tmp_path / "d.toml")
    assert exporter_from(None, cfg).broker.password == "s3cret"  # relative to devices.toml
    no_password_env.setenv("FLEET_MQTT_PASSWORD", "from-env")
    assert exporter_from("mqtt://ann@broker", None).broker.password == "from-env"
    assert exporter_from("mqtt://ann@broker", None, password_file=pw).broker.password == "s3cret"
    assert exporter_from("mqtt://ann:in-url@broker", None).broker.password == "in-url"
    assert exporter_from("mqtt://broker", None).broker.password is None  # anonymous: the variable is not sent


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        ("mqtt://ann:in-url@broker", {"password_file": "pw"}, "a password in the URL and a password file"),
        ("mqtt://broker", {"password_file": "pw"}, "needs a user name"),
        ("mqtt://ann@broker", {"password_file": "missing"}, "missing: cannot read the MQTT password"),
        ("mqtt://ann@broker", {"password_file": "empty"}, "empty: no password in it"),
        ("mqtt://broker", {"ca_file": "pw"}, "TLS files are for mqtts:// brokers"),
        ("mqtts://broker", {"key_file": "pw"}, "a client key needs its certificate"),
        ("mqtts://broker", {"ca_file": "missing"}, "missing: no such file"),
    ],
)
def test_bad_credentials_are_refused_by_name(tmp_path, no_password_env, url, options, message):
    (tmp_path / "pw").write_text("s3cret\n")
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigError, match=message) as info:
        exporter_from(url, None, **{k: tmp_path / v for k, v in options.items()})
    assert "s3cret" not in str(info.value) and "in-url" not in str(info.value)


def test_tls_files_in_devices_toml_need_mqtts_and_say_where(tmp_path):
    with pytest.raises(ConfigError, match=r"d\.toml:1: mqtt: TLS files are for mqtts:// brokers"):
        parse_config('[mqtt]\nurl = "mqtt://broker"\nca_file = "ca.pem"\n', tmp_path / "d.toml")


@pytest.fixture
def tls_broker(tmp_path):
    """mosquitto on loopback with TLS (a throwaway CA), client certificates required, and a
    password for user ann; yields (broker, PEM files)."""
    if reason := missing("mosquitto", "mosquitto_passwd", "openssl"):
        pytest.skip(reason)
    pki = make_test_pki(tmp_path)
    passwords = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "ann", "s3cret"], check=True, capture_output=True)
    broker = Mosquitto(tmp_path, settings=(
        f"cafile {pki['ca']}\ncertfile {pki['server']}\nkeyfile {pki['server_key']}\nrequire_certificate true\n"
        f"password_file {passwords}\nallow_anonymous false\n"
        # Started as root, mosquitto reads the password file after switching to user
        # mosquitto, who cannot read the test's private directory: stay who we are.
        f"user {getpass.getuser()}\n"))  # fmt: skip
    broker.start()
    try:
        yield broker, pki
    finally:
        broker.stop()


@pytest.mark.system
async def test_mqtts_with_a_ca_a_client_certificate_and_the_password_from_the_environment(tls_broker, tmp_path,
                                                                                          no_password_env):  # fmt: skip
    broker, pki = tls_broker
    url = f"mqtts://ann@127.0.0.1:{broker.port}"

    def subscribe(client) -> None:
        client.tls_set(ca_certs=str(pki["ca"]), certfile=str(pki["client"]), keyfile=str(pki["client_key"]))
        client.username_pw_set("ann", "s3cret")

    sub = await asyncio.to_thread(Subscriber, broker.port, setup=subscribe)
    no_password_env.setenv("FLEET_MQTT_PASSWORD", "s3cret")
    exporter = exporter_from(url, None, ca_file=pki["ca"], cert_file=pki["client"], key_file=pki["client_key"])
    exporter.start()
    try:
        assert await exporter.wait_connected(10), exporter.last_error
        assert exporter.publish_event(RESULT)
        await asyncio.to_thread(sub.wait_for, lambda m: any(t == "fleet/lab_nano_1/result" for t, _, _ in m))
    finally:
        await exporter.stop()
        sub.close()

    # A broker whose certificate our CA did not sign, and a wrong password: never connected, and why.
    for options, why in (({"ca_file": pki["other_ca"]}, "CERTIFICATE_VERIFY_FAILED"), ({}, "Not authorized")):
        no_password_env.setenv("FLEET_MQTT_PASSWORD", "wrong" if not options else "s3cret")
        tls = {"ca_file": pki["ca"], "cert_file": pki["client"], "key_file": pki["client_key"]} | options
        exporter = exporter_from(url, None, **tls)
        exporter.start()
        try:
            await until(lambda: exporter.last_error is not None, f"the exporter's error ({why})")
            assert why in exporter.last_error and exporter.connects == 0 and not exporter.connected
        finally:
            await exporter.stop(timeout_s=1)


def test_monitor_passes_its_mqtt_files_on(tmp_path, capsys):
    from fleet.cli.main import main

    ca = tmp_path / "ca.pem"
    ca.write_text("not used: refused before any connection\n")
    (tmp_path / "devices.toml").write_text("")
    assert main(["--config", str(tmp_path / "devices.toml"), "monitor", "--mqtt", "mqtt://broker", "--mqtt-ca", str(ca)]) == 2
    assert "TLS files are for mqtts:// brokers" in capsys.readouterr().err


def test_a_tls_file_that_is_not_pem_is_named(tmp_path):
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    exporter = exporter_from("mqtts://broker", None, ca_file=bad)
    with pytest.raises(ExportError, match=rf"mqtts://broker:8883: cannot use the TLS files \({bad}\)"):
        exporter.start()


async def test_a_stop_that_is_cancelled_ends_cancelled_and_a_later_stop_finishes():
    """Before: stop() swallowed its own cancellation and went on to say goodbye."""
    manager = FleetManager(FleetConfig(), discover=False)
    exporter = MqttExporter(parse_mqtt_url(f"mqtt://127.0.0.1:{free_port()}"))  # nothing listens there
    exporter.attach(manager)
    stopping = asyncio.create_task(exporter.stop(timeout_s=3600.0))
    await asyncio.sleep(0)  # it has cancelled its publishing task and waits for it to end
    stopping.cancel()
    await asyncio.wait({stopping})
    assert stopping.cancelled()
    assert exporter._client is not None  # not disconnected: that is left to...
    await exporter.stop(timeout_s=1.0)  # ...a later stop
    assert exporter._client is None
    await manager.stop()
