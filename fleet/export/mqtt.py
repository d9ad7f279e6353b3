"""Publish fleet telemetry to an MQTT broker with paho-mqtt (topics: `fleet.export.topics`).

    exporter = MqttExporter(parse_mqtt_url("mqtt://127.0.0.1:1883"), prefix="fleet")
    exporter.attach(manager)      # subscribes before manager.start(): sees every event
    ...
    await manager.stop()          # ends the consumer; the exporter publishes what is queued
    await exporter.stop()

Credentials never need the command line: the password comes from the URL, a password
file, or `$FLEET_MQTT_PASSWORD` (see `exporter_from`); `mqtts://` brokers take a CA file
and a client certificate (`TlsFiles`, paho's `tls_set`).

paho runs its network loop in its own thread (`loop_start`) and reconnects by itself
after the broker goes away (backoff 0.5 s .. 10 s); the exporter only hands it messages.
Nothing here ever waits for the broker: the manager's hub drops events when the exporter's
queue is full (`consumer.dropped`), and the exporter drops messages while paho already
has `max_pending` unsent ones or is disconnected (`dropped`). Both counts are reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleet.cancel import cancel_and_wait
from fleet.config import BrokerAddress
from fleet.errors import ConfigError, ExportError
from fleet.export.topics import message_for, status_topic
from fleet.redact import redact
from fleet.telemetry.fanout import Consumer

if TYPE_CHECKING:
    from fleet.manager import FleetManager

PASSWORD_ENV = "FLEET_MQTT_PASSWORD"
DEFAULT_QUEUE = 16384  # events between the hub and this exporter
DEFAULT_MAX_PENDING = 10000  # messages handed to paho and not yet written (qos 0) or acknowledged (qos 1, 2)
KEEPALIVE_S = 30


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files for an mqtts:// broker: the CA that signed it (None: the system's CAs) and,
    for brokers that ask for one, our client certificate and its key (None: in the certificate)."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


class MqttExporter:
    """A telemetry consumer that publishes to one broker; see the module doc."""

    def __init__(
        self, broker: BrokerAddress, *, prefix: str = "fleet", qos: int = 0, client_id: str | None = None,
        max_pending: int = DEFAULT_MAX_PENDING, tls: TlsFiles | None = None,
    ) -> None:  # fmt: skip
        self.broker = broker
        self.tls = tls or TlsFiles()
        self.prefix = prefix
        self.qos = qos
        self.client_id = client_id or f"fleet-{socket.gethostname()}-{os.getpid()}"
        self.max_pending = max_pending
        self.published = 0  # messages paho accepted
        self.dropped = 0  # messages we did not hand to paho (disconnected, or too many pending)
        self.connects = 0
        self.last_error: str | None = None
        self.consumer: Consumer | None = None
        self._connected = threading.Event()
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._client: Any = None
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.broker.tls else 'mqtt'}://{self.broker.host}:{self.broker.port}"

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Create the paho client and start connecting (in paho's thread); returns at once."""
        if self._client is not None:
            return
        try:
            # Imported here: only users of --mqtt need paho-mqtt.
            from paho.mqtt import client as paho
        except ImportError:
            raise ExportError("MQTT export needs the paho-mqtt package",
                              hint="pip install 'paho-mqtt>=2.0'") from None  # fmt: skip
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=paho.MQTTv311)
        if self.broker.username is not None:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            try:
                client.tls_set(ca_certs=_str(self.tls.ca_file), certfile=_str(self.tls.cert_file),
                               keyfile=_str(self.tls.key_file))  # fmt: skip
            except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
                files = ", ".join(str(f) for f in (self.tls.ca_file, self.tls.cert_file, self.tls.key_file) if f)
                raise ExportError(f"{self.url}: cannot use the TLS files ({files or 'system CAs'}): {exc}") from None
        # The broker publishes "offline" for us if we vanish without saying goodbye.
        client.will_set(status_topic(self.prefix), self._status("offline"), qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        try:
            client.connect_async(self.broker.host, self.broker.port, keepalive=KEEPALIVE_S)
        except (OSError, ValueError) as exc:
            raise ExportError(f"{self.url}: cannot connect: {exc}") from None
        client.loop_start()
        self._client = client

    def attach(self, manager: FleetManager, queue: int = DEFAULT_QUEUE) -> Consumer:
        """Start, subscribe to the manager's events, and publish them until the manager stops."""
        self.start()
        consumer = manager.subscribe(maxsize=queue, name="mqtt")
        self.consumer = consumer
        self._task = asyncio.get_running_loop().create_task(self.run(consumer), name="fleet-mqtt-export")
        return consumer

    async def wait_connected(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the first connection; False if the broker is not reachable yet."""
        return await asyncio.to_thread(self._connected.wait, timeout_s)

    async def run(self, consumer: Consumer) -> None:
        """Publish every event of `consumer` until it ends."""
        async for event in consumer:
            self.publish_event(event)

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Publish what is queued (within `timeout_s`), say offline, disconnect.

        A stop that is cancelled itself ends cancelled (the publishing task with it, the
        broker connection left for a later stop(), or for the will to say offline).
        """
        task, self._task = self._task, None
        if task is not None:
            if self.consumer is not None and not self.consumer.ended:
                self.consumer.close()  # the manager still runs: stop taking its events
                task.cancel()
            try:
                await asyncio.wait({task}, timeout=timeout_s)  # what is queued is published
            except asyncio.CancelledError:
                task.cancel()
                raise
            await cancel_and_wait(task)  # time is up (or it ended): raises what it raised
        client, self._client = self._client, None
        if client is None:
            return
        if self.connected:
            info = client.publish(status_topic(self.prefix), self._status("offline"), qos=1, retain=True)
            deadline = time.monotonic() + timeout_s
            while self._pending > 0 and self.connected and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            with contextlib.suppress(RuntimeError, ValueError):
                await asyncio.to_thread(info.wait_for_publish, max(0.0, deadline - time.monotonic()))
        client.disconnect()
        await asyncio.to_thread(client.loop_stop)

    # --- publishing ------------------------------------------------------------------

    def publish_event(self, event: Any) -> bool:
        """Hand one event to paho if it is an exported kind; never waits. False if dropped."""
        out = message_for(event, self.prefix)
        if out is None:
            return True
        return self._publish(out.topic, out.payload, out.retain)

    def _publish(self, topic: str, payload: bytes, retain: bool) -> bool:
        client = self._client
        if client is None or not self._connected.is_set() or self._pending >= self.max_pending:
            self.dropped += 1
            return False
        with self._pending_lock:
            self._pending += 1
        info = client.publish(topic, payload, qos=self.qos, retain=retain)
        if info.rc != 0:  # disconnected between the check and the call
            with self._pending_lock:
                self._pending = max(0, self._pending - 1)
            self.dropped += 1
            return False
        self.published += 1
        return True

    def _status(self, state: str) -> bytes:
        return json.dumps({"state": state, "client_id": self.client_id, "host": socket.gethostname(),
                           "pid": os.getpid(), "time": time.time()}).encode()  # fmt: skip

    # --- paho callbacks (paho's thread) ----------------------------------------------

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if getattr(reason, "is_failure", False):
            self.last_error = f"broker refused the connection: {reason}"
            return
        with self._pending_lock:
            # qos 0 messages queued before a disconnect are gone; qos 1/2 ones are resent
            # and acknowledged again (the count is clamped at zero).
            self._pending = 0
        self.last_error = None
        client.publish(status_topic(self.prefix), self._status("online"), qos=1, retain=True)
        self._connected.set()
        # Counted once `connected` shows it: whoever sees the count go up (a test, a status
        # line) and publishes at once must not have the event dropped as if still offline.
        self.connects += 1

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        # paho calls this from the `except OSError` around its connect, so the exception it
        # is handling is why (a refused TCP connection, a certificate the CA did not sign).
        self.last_error = f"cannot connect: {sys.exception() or 'connection failed'}"

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        # A refused connection is followed by a disconnect: keep the refusal's reason.
        if was_connected and getattr(reason, "is_failure", False):
            self.last_error = f"disconnected: {reason}"

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        with self._pending_lock:
            self._pending = max(0, self._pending - 1)

    def summary(self) -> str:
        """One line for the end of a session."""
        hub_drops = self.consumer.dropped if self.consumer is not None else 0
        return (f"published {self.published} messages to {self.url} under {self.prefix}/; "
                f"{self.dropped + hub_drops} dropped")  # fmt: skip


def exporter_from(
    url: str | None, config: Any, *, password_file: Path | None = None, ca_file: Path | None = None,
    cert_file: Path | None = None, key_file: Path | None = None,
) -> MqttExporter | None:  # fmt: skip
    """The exporter `fleet monitor` runs: `--mqtt URL` wins over devices.toml's [mqtt] url,
    and each file given on the command line over its [mqtt] key (relative to devices.toml);
    topic prefix and qos come from [mqtt] when present. None when neither asks for one.

    The password is the URL's, else the password file's (first line), else
    `$FLEET_MQTT_PASSWORD` when the URL names a user; a URL password and a file together
    are refused (which one was meant?)."""
    from fleet.config import parse_mqtt_url, tls_problem

    settings = getattr(config, "mqtt", None)
    url = url or (settings.url if settings is not None else None)
    if url is None:
        return None
    try:
        broker = parse_mqtt_url(url)
    except ValueError as exc:
        raise ConfigError(f"--mqtt {redact(url)}: {exc}") from None
    base = config.source.parent if getattr(config, "source", None) is not None else Path()

    def setting(given: Path | None, key: str) -> Path | None:
        if given is not None:
            return given
        value = getattr(settings, key, None)
        return base / value if value is not None else None

    tls = TlsFiles(setting(ca_file, "ca_file"), setting(cert_file, "cert_file"), setting(key_file, "key_file"))
    if problem := tls_problem(url, tls.ca_file, tls.cert_file, tls.key_file):
        raise ConfigError(problem)
    for path in (tls.ca_file, tls.cert_file, tls.key_file):
        if path is not None and not path.is_file():
            raise ConfigError(f"{path}: no such file (an MQTT TLS setting)")
    broker = broker._replace(password=_password(broker, setting(password_file, "password_file")))
    if settings is None:
        return MqttExporter(broker, tls=tls)
    return MqttExporter(broker, prefix=settings.topic_prefix, qos=settings.qos, tls=tls)


def _password(broker: BrokerAddress, password_file: Path | None) -> str | None:
    if password_file is None:
        return broker.password or (os.environ.get(PASSWORD_ENV) or None if broker.username else None)
    if broker.password is not None:
        raise ConfigError("a password in the URL and a password file: give the MQTT password once",
                          hint=f"drop it from the URL (it shows in `ps`); keep {password_file}")  # fmt: skip
    if broker.username is None:
        raise ConfigError(f"{password_file}: a password needs a user name: mqtt://USER@host")
    try:
        text = password_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{password_file}: cannot read the MQTT password: {getattr(exc, 'strerror', None) or exc}") from None
    password = text.splitlines()[0] if text.strip() else ""
    if not password:
        raise ConfigError(f"{password_file}: no password in it (its first line is used)")
    return password


def _str(path: Path | None) -> str | None:
    return None if path is None else str(path)
