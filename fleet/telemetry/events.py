"""Telemetry events: what the fleet manager fans out, `fleet monitor --json` prints and
recordings store, one JSON object per event.

Every event is a frozen pydantic model with a `kind` discriminator and the board it came
from (`board` name, `uid` hex). `host_time` is wall-clock seconds (`time.time()` scale):
for events the board timestamps, its `device_time_us` mapped through the PING clock
estimate, so events from different boards line up on one axis; for events the host makes
(state changes, link health, deploy steps) the host's own clock. Parse any event with
`parse_event(json_text)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from fleet.deploy.events import DeployEvent
from fleet.printable import printable
from fleet.telemetry.power_source import MODELLED, source_kind

# conflict: its uid answers on several ports at once; fleet stays off all of them (fleet.manager).
ConnectionState = Literal["connecting", "online", "reconnecting", "offline", "conflict"]
# Text that came from a board. Live events get it printable from decoding already (a no-op
# here); a recording read back is a file anyone can hand over, so it passes again.
BoardText = Annotated[str, AfterValidator(printable)]


def _meter_only(value: str) -> str:
    if source_kind(value) != "meter":
        raise ValueError(f"energy per inference and a current trace come from a meter, not {value!r}")
    return value


# The source of what only an external meter measures: `meter:<kind> <serial>`.
MeterLabel = Annotated[str, AfterValidator(printable), AfterValidator(_meter_only)]


class _Event(BaseModel):
    # NaN/Infinity survive a JSON round trip (a float model can output them), so a replay
    # reproduces exactly what was recorded.
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")

    board: BoardText
    uid: str
    host_time: float
    device_time_us: int | None = None


class ResultEvent(_Event):
    """One INFER_RESULT, dequantized: `values[i] = (q[i] - zero_point) * scale` (raw values
    for float outputs). With top-k streaming `indices` gives each value's output index.
    `top_index`/`score` is the largest value; `label` its name when the model's manifest
    (beside a deployed model file, or a bundled example) gives labels."""

    kind: Literal["result"] = "result"
    device_time_us: int
    latency_us: int
    inference_count: int
    input_id: int
    model: str  # first 4 bytes of the running model's sha256, hex
    dtype: str
    values: tuple[float, ...]
    indices: tuple[int, ...] | None = None
    top_index: int | None = None
    score: float | None = None
    label: str | None = None


class PowerEvent(_Event):
    """One power sample: supply voltage, average current since the previous sample, energy since boot.

    `source` says who measured it (`fleet.telemetry.power_source`): `modelled` or `sensor`
    for the board's own POWER events; `meter:<kind> <serial>` for an external meter, whose
    `device_time_us` and `energy_uj` run on the meter's clock since it started measuring.
    """

    kind: Literal["power"] = "power"
    device_time_us: int
    voltage_mv: int
    current_ua: int
    energy_uj: int
    power_mw: float
    source: BoardText = MODELLED  # recordings made before sources existed hold modelled figures only

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        source_kind(value)
        return value


class EnergyEvent(_Event):
    """The energy of one inference, measured by a meter in the board's supply (`fleet.meters.energy`).

    `energy_uj` = integral of V*I over [start, end] of the inference, less `baseline_uj`
    (idle power x duration) when baseline subtraction is on. `method`: `marker` (the window
    is the board's marker pulse, sampled by the meter) or `timestamp` (the window is the
    result's [finish - latency, finish] mapped onto the meter's clock; see docs/power.md
    for its error bound). `inference_count`/`device_time_us` name the result it belongs to.
    """

    kind: Literal["energy"] = "energy"
    device_time_us: int
    inference_count: int
    energy_uj: float
    duration_us: float
    power_mw: float  # average over the window
    baseline_uj: float = 0.0
    method: Literal["marker", "timestamp"]
    source: MeterLabel  # names the meter by the serial number it reports


class TraceEvent(_Event):
    """A meter's current trace, decimated to min/max per fixed bucket of meter time, for live
    views (`fleet.meters.trace`). Bucket i starts `device_time_us + i * bucket_us` on the
    meter's clock (`host_time`: the first on the host's); a bucket without samples (lost
    ones) is null. `windows` are the inferences measured since the previous trace, as
    (start µs, end µs, µJ) on the meter's clock, so they line up with the buckets exactly.
    Published with the meter's `power` events, about ten times a second."""

    kind: Literal["trace"] = "trace"
    device_time_us: int
    bucket_us: float
    min_ua: tuple[float | None, ...]
    max_ua: tuple[float | None, ...]
    windows: tuple[tuple[float, float, float], ...] = ()
    source: MeterLabel


class LogEvent(_Event):
    """A log line from the board (level 0 DEBUG .. 3 ERROR)."""

    kind: Literal["log"] = "log"
    device_time_us: int
    level: int
    text: BoardText


class BootEvent(_Event):
    """The board booted (reason 0 POWER_ON, 1 REQUESTED, 2 WATCHDOG, 3 FAULT); its clock restarted."""

    kind: Literal["boot"] = "boot"
    reason: int
    boot_count: int


class SlotView(BaseModel):
    """A model slot as the board last reported it (INFO)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slot: int
    state: str  # empty, receiving, valid, pending, active
    name: BoardText
    version: BoardText
    sha256: str


class BoardResources(BaseModel):
    """What a board's INFO says it has beside its models: memory for them, its clock, its slots."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    arena_bytes: int
    slot_bytes: int
    cpu_hz: int
    slots: tuple[str, ...]  # each slot's state, by index: empty, receiving, valid, pending, active


class StateEvent(_Event):
    """A board's connection state or identity changed: everything a row needs to describe it."""

    kind: Literal["state"] = "state"
    state: ConnectionState
    port: str
    profile: BoardText | None = None
    firmware: BoardText | None = None
    tags: tuple[str, ...] = ()
    active: SlotView | None = None  # the running model
    previous: SlotView | None = None  # the other slot, if it holds a verified model (the rollback target)
    resources: BoardResources | None = None  # from its last INFO; None before one (and in older recordings)
    reconnects: int = 0
    resets: int = 0
    reason: BoardText | None = None


class LinkEvent(_Event):
    """Link health counters of the current connection (they restart at a reconnect), about once a second."""

    kind: Literal["link"] = "link"
    frames_in: int = 0
    frames_out: int = 0
    bad_crc: int = 0
    malformed: int = 0
    too_long: int = 0
    timeouts: int = 0
    retries: int = 0
    late_responses: int = 0
    events: int = 0
    events_lost: int = 0  # gaps in the board's event sequence
    events_dropped: int = 0  # the manager's reader could not keep up
    clock_rtt_ms: float | None = None

    @property
    def errors(self) -> int:
        """Everything that went wrong on the wire: CRC, malformed and oversize frames, timeouts, lost events."""
        return self.bad_crc + self.malformed + self.too_long + self.timeouts + self.events_lost


class DeployNotice(_Event):
    """One step of a deploy run through the manager (`board` is "" for rollout-wide steps)."""

    kind: Literal["deploy"] = "deploy"
    event: DeployEvent


TelemetryEvent = Annotated[
    ResultEvent | PowerEvent | EnergyEvent | TraceEvent | LogEvent | BootEvent | StateEvent | LinkEvent | DeployNotice,
    Field(discriminator="kind"),
]
EVENT_ADAPTER: TypeAdapter[TelemetryEvent] = TypeAdapter(TelemetryEvent)
E = TypeVar("E", bound=_Event)


def parse_event(text: str | bytes) -> TelemetryEvent:
    """One event from its JSON text; raises pydantic.ValidationError."""
    return EVENT_ADAPTER.validate_json(text)


_new = object.__new__
# BaseModel's slots, set through their descriptors: a third cheaper than `object.__setattr__`
# by name, and an event is built on the hot path thousands of times a second.
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_TRUSTED: dict[type, Callable[..., _Event]] = {}


def trusted(cls: type[E], /) -> Callable[..., E]:
    """The constructor of `cls` without validation, for the host's hot path: call it with
    the event's fields as keywords.

    Only for values the host computed itself from board input that decoding has already
    checked (`fleet.protocol` limits, printable text) or from its own configuration: then
    validating again (4 µs an event with pydantic) checks nothing. Everything else, recordings
    read back above all, goes through the model's constructor or `parse_event`. The result
    equals, field for field and in its JSON, what the constructor would have built
    (tests/telemetry/test_trusted.py); a field the class does not have, or a missing one
    without a default, is a TypeError."""
    make = _TRUSTED.get(cls)
    if make is None:
        make = _TRUSTED[cls] = _trusted_constructor(cls)
    return make  # type: ignore[return-value]


def trusted_fields(cls: type[E], /) -> Callable[[dict[str, Any]], E]:
    """`trusted` for the hottest path (every result and power sample): the event of `cls`
    made of `fields`, a dict of every one of its fields in declared order, `kind` included
    (the order its JSON shows them in). The dict becomes the event's: build a new one for
    each. Nothing checks the dict, so its caller is held to the model by tests
    (tests/telemetry/test_trusted.py compares what it builds with validated events)."""
    names = set(cls.model_fields)  # shared by every event made: all their fields are set

    def make(fields: dict[str, Any]) -> E:
        event = _new(cls)
        _set_dict(event, fields)
        _set_fields(event, names)
        _set_extra(event, None)
        _set_private(event, None)
        return event

    make.__qualname__ = f"{cls.__name__}.trusted_fields"
    return make


def _trusted_constructor(cls: type[E]) -> Callable[..., E]:
    # One function per class with a keyword-only parameter per field (defaults as the model's)
    # that builds the event's dict in one step, in the order of the model's fields (the order
    # its JSON shows them in), as `dataclasses` generates `__init__`.
    names = tuple(cls.model_fields)
    scope: dict[str, object] = {"_from_fields": trusted_fields(cls)}
    params = []
    for i, (name, info) in enumerate(cls.model_fields.items()):
        if info.is_required():
            params.append(name)
        else:
            scope[f"_default{i}"] = info.default
            params.append(f"{name}=_default{i}")
    fields = ", ".join(f"{name!r}: {name}" for name in names)
    exec(  # noqa: S102 - the source is built from the model's own field names
        f"def make(*, {', '.join(params)}):\n    return _from_fields({{{fields}}})\n",
        scope,
    )  # fmt: skip
    make = scope["make"]
    make.__qualname__ = f"{cls.__name__}.trusted"  # what a TypeError names
    return make  # type: ignore[return-value]
