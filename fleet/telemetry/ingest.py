"""Turning one board's protocol events into telemetry events.

`BoardIngest` knows the board (name, uid), its models (from INFO: full sha256 for each
slot, so a result's 4-byte hash prefix names its model), the label catalog, and the
board's clock. Device timestamps become wall-clock `host_time` through the PING estimate:

    host_time = device_time_us / 1e6 - offset_s + (time.time() - time.monotonic())

(`ClockEstimate` maps to the host's monotonic clock; the second term, sampled when the
estimate is taken, moves it onto the wall clock every board shares). Between a board's
reset and the next estimate its clock is unknown; events then get their arrival time.
"""

from __future__ import annotations

import time

from fleet.client import ClockEstimate
from fleet.protocol import Boot, Capability, InferResult, Info, Log, Message, MsgType, Power, SlotState
from fleet.protocol.stream import StreamRecord
from fleet.telemetry.events import (
    BoardResources, BootEvent, LogEvent, PowerEvent, ResultEvent, SlotView, TelemetryEvent, trusted, trusted_fields,
)  # fmt: skip
from fleet.telemetry.labels import ModelCatalog, resolve_labels
from fleet.telemetry.outputs import decode_values, top
from fleet.telemetry.power_source import MODELLED, SENSOR

_ZERO_SHA = bytes(32)
_result_event, _power_event = trusted_fields(ResultEvent), trusted_fields(PowerEvent)
_log_event, _boot_event = trusted(LogEvent), trusted(BootEvent)
_POWER = int(MsgType.POWER)


class BoardClock:
    """Device microseconds to wall-clock seconds for one board (see the module doc)."""

    def __init__(self) -> None:
        self.estimate: ClockEstimate | None = None
        self.wall_minus_mono = time.time() - time.monotonic()  # sampled with the estimate

    def update(self, estimate: ClockEstimate) -> None:
        self.estimate = estimate
        self.wall_minus_mono = time.time() - time.monotonic()

    def invalidate(self) -> None:
        """The board's clock restarted (a reset): unknown until the next estimate."""
        self.estimate = None

    def to_wall(self, device_time_us: int) -> float:
        if self.estimate is None:
            return time.time()
        return device_time_us / 1e6 - self.estimate.offset_s + self.wall_minus_mono


def _state_name(state: int) -> str:
    return SlotState(state).name.lower()


def board_resources(info: Info) -> BoardResources:
    """Arena and slot sizes, clock and slot states from INFO."""
    return BoardResources(arena_bytes=info.arena_bytes, slot_bytes=info.slot_bytes, cpu_hz=info.cpu_hz,
                          slots=tuple(_state_name(s.state) for s in info.slots))  # fmt: skip


def slot_views(info: Info) -> tuple[SlotView | None, SlotView | None]:
    """(running model, rollback target) from INFO."""
    views = [
        SlotView(slot=i, state=_state_name(s.state), name=s.name, version=s.version, sha256=s.sha256.hex())
        for i, s in enumerate(info.slots)
    ]  # fmt: skip
    running = info.active_slot if info.active_slot < len(views) else None
    active = views[running] if running is not None else None
    kept = (SlotState.VALID, SlotState.ACTIVE, SlotState.PENDING)
    previous = next(
        (v for i, v in enumerate(views) if i != running and info.slots[i].state in kept and info.slots[i].sha256 != _ZERO_SHA),
        None,
    )  # fmt: skip
    return active, previous


class BoardIngest:
    """Converts one board's protocol events to telemetry events; see the module doc."""

    def __init__(self, name: str, uid: str, catalog: ModelCatalog, power_source: str = MODELLED,
                 labels: dict[str, tuple[str, ...] | None] | None = None) -> None:  # fmt: skip
        self.name = name
        # What the board's POWER events are (fleet.telemetry.power_source): `sensor` while its
        # INFO declares POWER_SENSOR, else what devices.toml says (modelled by default).
        self.power_source = self._configured_source = power_source
        self.uid = uid
        self.catalog = catalog
        self.clock = BoardClock()
        self._models: dict[str, str] = {}  # sha256 prefix (hex, as results name it) -> full sha256 hex
        # Output labels by model prefix, resolved once per model: the board's
        # `BoardState.model_labels` (the manager passes it), which views read.
        self.labels = labels if labels is not None else {}
        self.unknown_prefix: bytes | None = None  # set when a result names a model INFO did not list

    def set_info(self, info: Info) -> None:
        self.power_source = SENSOR if info.capabilities & Capability.POWER_SENSOR else self._configured_source
        self._models = {s.sha256[:4].hex(): s.sha256.hex() for s in info.slots if s.sha256 != _ZERO_SHA}
        self.labels.clear()
        self.unknown_prefix = None

    def convert(self, msg: Message) -> TelemetryEvent | None:
        """The telemetry event for a board event, or None for messages that are not telemetry.

        Events are built with `trusted`/`trusted_fields` (no validation): every field is the board's, already
        checked where its frame was decoded (`fleet.protocol`), or the host's own."""
        kind = type(msg)
        if kind is InferResult or kind is Power:
            out: list[ResultEvent | PowerEvent] = []
            self.stream([(msg.TYPE, 0, msg.values())], out)
            return out[0]
        if kind is Log:
            return _log_event(board=self.name, uid=self.uid, host_time=self.clock.to_wall(msg.device_time_us),
                           device_time_us=msg.device_time_us, level=msg.level, text=msg.text)  # fmt: skip
        if kind is Boot:
            return _boot_event(board=self.name, uid=self.uid, host_time=time.time(), reason=msg.reason,
                           boot_count=msg.boot_count)  # fmt: skip
        return None

    def stream(self, records: list[StreamRecord], out: list[ResultEvent | PowerEvent]) -> bool:
        """Append the telemetry event of each streamed event (`fleet.protocol.stream`
        records: INFER_RESULT, POWER) to `out`, in order; whether there was a result.

        What `convert` does for their messages, with the board's clock and labels looked up
        once for all of them. An output fleet cannot read raises MalformedMessage, after the
        events before it are in `out`."""
        name, uid, source, labels_by_model = self.name, self.uid, self.power_source, self.labels
        estimate = self.clock.estimate
        offset, wall = (estimate.offset_s, self.clock.wall_minus_mono) if estimate is not None else (0.0, 0.0)
        results = False
        append = out.append
        for type_, _seq, v in records:
            t = v[0]
            host_time = t / 1e6 - offset + wall if estimate is not None else time.time()
            if type_ == _POWER:
                _t, mv, ua, energy = v
                append(_power_event({
                    "board": name, "uid": uid, "host_time": host_time, "device_time_us": t, "kind": "power",
                    "voltage_mv": mv, "current_ua": ua, "energy_uj": energy, "power_mw": mv * ua / 1e6, "source": source,
                }))  # fmt: skip
                continue
            results = True
            _t, latency, count, input_id, model_prefix, dtype, fmt, scale, zero, data = v
            dtype_name, values, indices = decode_values(dtype, fmt, scale, zero, data)
            index, score = top(values, indices)
            prefix = model_prefix.hex()
            labels = labels_by_model[prefix] if prefix in labels_by_model else self._labels_for(prefix)
            label = labels[index] if labels is not None and index is not None and index < len(labels) else None
            append(_result_event({
                "board": name, "uid": uid, "host_time": host_time, "device_time_us": t, "kind": "result",
                "latency_us": latency, "inference_count": count, "input_id": input_id, "model": prefix,
                "dtype": dtype_name, "values": values, "indices": indices, "top_index": index, "score": score,
                "label": label,
            }))  # fmt: skip
        return results

    def _labels_for(self, prefix: str) -> tuple[str, ...] | None:
        sha = self._models.get(prefix)
        if sha is None:
            self.unknown_prefix = bytes.fromhex(prefix)  # the board runs a model INFO did not show: the owner re-reads INFO
            return None
        return resolve_labels(self.catalog, prefix, (sha,), self.labels)
