"""Live telemetry: events, per-board statistics, fan-out, recording, replay, decimation.

The fleet manager (`fleet.manager.FleetManager`) produces the events; everything here is
also usable without it (a replay has no boards). See docs/telemetry.md.
"""

from fleet.telemetry.events import (
    EVENT_ADAPTER, BootEvent, ConnectionState, DeployNotice, LinkEvent, LogEvent, PowerEvent, ResultEvent, SlotView,
    StateEvent, TelemetryEvent, parse_event,
)  # fmt: skip
from fleet.telemetry.fanout import Consumer, EventHub
from fleet.telemetry.recording import RecordingHeader, RecordingWriter, open_recording
from fleet.telemetry.replay import ReplaySource
from fleet.telemetry.state import BoardState
from fleet.telemetry.stats import LiveStats

__all__ = [
    "EVENT_ADAPTER", "BoardState", "BootEvent", "ConnectionState", "Consumer", "DeployNotice", "EventHub",
    "LinkEvent", "LiveStats", "LogEvent", "PowerEvent", "RecordingHeader", "RecordingWriter", "ReplaySource",
    "ResultEvent", "SlotView", "StateEvent", "TelemetryEvent", "open_recording", "parse_event",
]  # fmt: skip
