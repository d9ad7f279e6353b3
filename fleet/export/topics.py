"""Which MQTT topic and payload each telemetry event becomes (documented in docs/scaling-out.md).

    <prefix>/<board>/result   every INFER_RESULT: the `result` event JSON (values, top_index, score, label, latency)
    <prefix>/<board>/power    every power sample: the `power` event JSON (mV, uA, uJ, mW, source)
    <prefix>/<board>/energy   a meter's energy for one inference: the `energy` event JSON
    <prefix>/<board>/state    connection state and identity: the `state` event JSON, retained
    <prefix>/<board>/log      board log lines: the `log` event JSON
    <prefix>/meters/<kind>-<serial>/log   a meter's own log lines (why it is not read): the `log` event JSON
    <prefix>/exporter         {"state": "online"|"offline", ...}, retained; "offline" is the will

Payloads are the same JSON objects `fleet monitor --json` prints, so one parser
(`fleet.telemetry.parse_event`) reads both. State is retained so a dashboard that
subscribes later sees every board's current state at once.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from fleet.telemetry.events import EnergyEvent, LogEvent, PowerEvent, ResultEvent, StateEvent, TelemetryEvent
from fleet.telemetry.power_source import source_kind

_EXPORTED = {ResultEvent: "result", PowerEvent: "power", EnergyEvent: "energy", StateEvent: "state", LogEvent: "log"}
_RETAINED = {"state"}
# MQTT wildcards and the level separator cannot appear inside one topic level.
_UNSAFE = re.compile(r"[+#/\x00]")


class Outgoing(NamedTuple):
    """One MQTT message to publish."""

    topic: str
    payload: bytes
    retain: bool


def board_level(name: str) -> str:
    """A board name as one topic level: '+', '#', '/' and NUL become '_'."""
    return _UNSAFE.sub("_", name) or "_"


def sender_levels(event: TelemetryEvent) -> str:
    """Who an event is from, as topic levels: its board's name, or `meters/<kind>-<serial>`
    for a meter's own event (of no board, `uid` empty, named by its label `meter:<kind> <serial>`:
    `fleet.meters.attach.meter_note`), which no board's name can take."""
    if not event.uid and event.board.startswith("meter:"):
        try:
            source_kind(event.board)
        except ValueError:
            return board_level(event.board)
        return f"meters/{board_level(event.board.removeprefix('meter:').replace(' ', '-', 1))}"
    return board_level(event.board)


def status_topic(prefix: str) -> str:
    """The exporter's own retained online/offline topic."""
    return f"{prefix}/exporter"


def message_for(event: TelemetryEvent, prefix: str) -> Outgoing | None:
    """The message for an event, or None for kinds that are not exported (link, boot, deploy)."""
    kind = _EXPORTED.get(type(event))
    if kind is None:
        return None
    return Outgoing(f"{prefix}/{sender_levels(event)}/{kind}", event.model_dump_json().encode(), kind in _RETAINED)
