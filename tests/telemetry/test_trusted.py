"""Events built on the hot path without validation (`trusted`) equal validated ones, JSON included."""

import struct

import pytest

from fleet.protocol import Boot, InferResult, Info, Log, OutputFormat, Power, SlotInfo
from fleet.telemetry.events import EVENT_ADAPTER, ResultEvent, parse_event, trusted
from fleet.telemetry.ingest import BoardIngest
from fleet.telemetry.labels import ModelCatalog

SHA = bytes(range(32))


def _ingest() -> BoardIngest:
    ingest = BoardIngest("board-1", "b00000000001", ModelCatalog(), power_source="sensor")
    slots = (SlotInfo(4, 100, 100, SHA, "m", "1"), SlotInfo())
    ingest.set_info(Info(1, 0, 4096, 0x1F, 4, 1, 1, 1, bytes(6), "kind", "fw", slots))
    return ingest


MESSAGES = [
    InferResult(1_000, 800, 7, 3, SHA[:4], 9, OutputFormat.RAW, 1 / 256, -128, struct.pack("<4b", -128, 5, 100, 5)),
    InferResult(2_000, 900, 8, 4, SHA[:4], 9, OutputFormat.TOPK, 0.5, 0, struct.pack("<HbHb", 3, 100, 0, 20)),
    InferResult(3_000, 900, 9, 5, b"\xff\xff\xff\xff", 0, OutputFormat.RAW, 0.0, 0, struct.pack("<f", float("nan"))),
    InferResult(4_000, 900, 10, 6, SHA[:4], 9, OutputFormat.RAW, 1.0, 0, b""),
    Power(5_000, 3300, 12_000, 777),
    Log(6_000, 2, "a line"),
    Boot(3, 2),
]


@pytest.mark.parametrize("msg", MESSAGES, ids=lambda m: type(m).__name__)
def test_trusted_events_equal_validated_ones(msg):
    event = _ingest().convert(msg)
    assert list(event.__dict__) == list(type(event).model_fields)  # every field, in the model's order
    validated = type(event)(**event.__dict__)
    assert event.model_dump_json() == validated.model_dump_json()
    # NaN != NaN, so compare what a reader gets back from the JSON, which is what matters.
    assert parse_event(event.model_dump_json()).model_dump_json() == event.model_dump_json()
    if not (type(msg) is InferResult and msg.dtype == 0):  # NaN != NaN
        assert event == validated
        assert EVENT_ADAPTER.validate_python(event.model_dump()) == event


def test_trusted_events_are_frozen_and_copy_like_validated_ones():
    event = _ingest().convert(MESSAGES[0])
    with pytest.raises(Exception, match="frozen"):
        event.label = "other"  # type: ignore[misc]
    copy = event.model_copy(update={"label": "other"})
    assert copy.label == "other" and event.label is None


def test_an_unknown_field_is_refused():
    with pytest.raises(TypeError, match="ResultEvent.trusted.. got an unexpected keyword argument 'colour'"):
        trusted(ResultEvent)(board="b", uid="u", host_time=0.0, device_time_us=0, latency_us=0, inference_count=0,
                input_id=0, model="00", dtype="int8", values=(), colour="red")  # fmt: skip


def test_a_missing_field_is_refused():
    with pytest.raises(TypeError, match="ResultEvent.trusted.. missing 1 required keyword-only argument: 'uid'"):
        trusted(ResultEvent)(board="b", host_time=0.0, device_time_us=0, latency_us=0, inference_count=0,
                             input_id=0, model="00", dtype="int8", values=())  # fmt: skip


@pytest.mark.parametrize("dtype, fmt", [(9, "<256b"), (3, "<256B")], ids=["int8", "uint8"])
def test_8_bit_outputs_read_from_a_table_equal_the_formula(dtype, fmt):
    codes = list(range(-128, 128)) if dtype == 9 else list(range(256))
    for scale, zero in ((1 / 256, -128), (0.0390625, 7), (3.5, 0)):
        msg = InferResult(1, 1, 1, 1, SHA[:4], dtype, OutputFormat.RAW, scale, zero, struct.pack(fmt, *codes))
        event = _ingest().convert(msg)
        assert event.values == tuple((q - zero) * scale for q in codes)
