"""The feed folds results and power samples in bulk; what it shows must equal folding each
event in turn (the reference below is the per-event fold the feed did before)."""

from __future__ import annotations

from functools import cache

import pytest

from fleet.telemetry.events import EnergyEvent, PowerEvent, ResultEvent, TelemetryEvent, TraceEvent
from fleet.telemetry.state import BoardState
from fleet.tui.feed import Feed
from fleet.tui.history import FOLD_AT, BoardHistory
from fleet.tui.power_trace import BUCKETS, PowerTrace
from tests.support.events import power, result

METER = "meter:ppk2 C3A1F0E2"
LABELS = ("down", "left", "right", "up")
OTHER = "11111111"  # a second model, deployed mid-stream


class Boards:
    def __init__(self, *boards: BoardState) -> None:
        self.boards = {b.uid: b for b in boards}

    def subscribe(self, maxsize: int = 4096, name: str = ""):  # noqa: ANN201 - never called here
        raise AssertionError("not used")


@cache
def stream() -> tuple[TelemetryEvent, ...]:
    """Two boards interleaved, 2,000 results each with a power sample every second result; board
    01 has labels (then a model without), board 02 none (its series learn labels from results),
    a late result, a meter that takes over board 01's power and trace, and indexed (top-k) results."""
    events: list[TelemetryEvent] = []
    for i in range(2000):
        t = 1_000_000 + i * 5000
        values = tuple(((i * 37 + k * 11) % 256) / 256 for k in range(4))
        top = max(range(4), key=values.__getitem__)
        one = result(t, i + 1, latency=800 + i % 97, values=values, label=LABELS[top])
        if i >= 1500:
            one = one.model_copy(update={"model": OTHER, "label": None})  # a deploy: no labels for it
        if 1200 <= i < 1210:
            one = one.model_copy(update={"indices": (top,), "values": (values[top],)})  # top-1 results
        two = result(t + 7, i + 1, latency=300, values=values[:3], label=f"class{i % 5}" if i % 3 else None,
                     board="c", uid="02")  # fmt: skip
        if i == 700:
            two = two.model_copy(update={"host_time": two.host_time - 1.3})  # late: joins the newest bucket
        events += [one, two]
        if i % 2:
            events.append(power(t + 10, i, mw=5.0 + i % 13))
            events.append(power(t + 20, i, mw=7.0 + i % 3, board="c", uid="02"))
        if i == 1000:
            events.append(PowerEvent(board="b", uid="01", host_time=t / 1e6, device_time_us=t, voltage_mv=3300,
                                     current_ua=2000, energy_uj=1, power_mw=6.6, source=METER))  # fmt: skip
        if i in (1100, 1400):
            us = i * 1000
            events.append(TraceEvent(board="b", uid="01", host_time=t / 1e6, device_time_us=us, bucket_us=2000.0,
                                     min_ua=(2000.0, None), max_ua=(6000.0, None), windows=((us + 10, us + 450, 8.5),),
                                     source=METER))  # fmt: skip
            events.append(EnergyEvent(board="b", uid="01", host_time=t / 1e6, device_time_us=us, inference_count=i,
                                      energy_uj=8.5, duration_us=440.0, power_mw=19.0, method="marker",
                                      source=METER))  # fmt: skip
    return tuple(events)


def reference(events: tuple[TelemetryEvent, ...],
              labels: dict[str, dict[str, tuple[str, ...]]]) -> dict[str, BoardHistory]:  # fmt: skip
    histories: dict[str, BoardHistory] = {}
    for event in events:
        history = histories.setdefault(event.uid, BoardHistory())
        if isinstance(event, ResultEvent):
            history.add_result(event, labels[event.uid].get(event.model))
            history.trace.add_result(event)
        elif isinstance(event, PowerEvent):
            history.add_power(event)
            history.trace.add_power(event)
        elif isinstance(event, TraceEvent):
            history.trace.add_trace(event)
        elif isinstance(event, EnergyEvent):
            history.trace.add_energy(event)
    return histories


def shown(history: BoardHistory) -> tuple:
    """Everything a screen reads from a history (repr: a NaN would compare unequal to itself)."""
    series = {name: repr(s.buckets()) for name, s in history.outputs.items()}
    trace = history.trace
    return (repr(history.latency_ms.buckets()), repr(history.power_mw.buckets()), series, list(history.recent),
            history.newest, history.model, history.power_source, list(trace.buckets), list(trace.windows),
            trace.source, trace.method, [s.samples for s in history.outputs.values()],
            history.latency_ms.samples)  # fmt: skip


def boards() -> Boards:
    one, two = BoardState("b", "01", "/dev/x"), BoardState("c", "02", "/dev/y")
    one.model_labels["00000000"] = LABELS
    return Boards(one, two)


@pytest.mark.parametrize("size", [1, 3, 64, 300, 2048])
def test_batches_of_any_size_fold_to_what_each_event_in_turn_gives(size):
    events = stream()
    source = boards()
    expected = reference(events, {uid: dict(b.model_labels) for uid, b in source.boards.items()})
    feed = Feed(source)
    for i in range(0, len(events), size):
        feed.ingest(events[i : i + size])
    assert feed.events == len(events)
    for uid in ("01", "02"):
        assert shown(feed.histories.get(uid)) == shown(expected[uid]), uid
    assert set(expected["02"].outputs) >= {"class1", "class2"}  # labels were learned, in both
    assert expected["01"].power_source == METER and expected["01"].trace.method == "marker"


def test_a_reader_sees_every_event_and_what_is_held_stays_bounded():
    source = boards()
    feed = Feed(source)
    events = [result(1_000_000 + i * 5000, i + 1, values=(0.1, 0.9, 0.0, 0.0), label="left")
              for i in range(FOLD_AT - 1)]  # fmt: skip
    feed.ingest(events)
    held = feed.histories.held("01")
    assert len(held.pending_results) == FOLD_AT - 1  # not folded yet: nobody asked
    assert feed.histories.get("01").latency_ms.samples == FOLD_AT - 1  # a reader gets them all
    assert not held.pending_results
    feed.ingest(events * 2)  # more than FOLD_AT in one batch: folded by the end of it
    assert not held.pending_results and held.latency_ms.samples == 3 * (FOLD_AT - 1)


def test_the_trace_keeps_the_newest_power_buckets_each_starting_where_the_one_before_ended():
    samples = [power(i * 100_000, i, mw=1 + i % 7) for i in range(3000)]
    one, bulk = PowerTrace(), PowerTrace()
    one.add_power(samples[0])
    assert one.buckets == [(0.0, 0.0, samples[0].current_ua, samples[0].current_ua)]  # the first: no width
    for event in samples[1:]:
        one.add_power(event)
    for i in range(0, len(samples), 333):
        bulk.add_powers(samples[i : i + 333])
    buckets = one.buckets
    assert bulk.buckets == buckets and len(buckets) == BUCKETS
    ends = [e.host_time for e in samples[-BUCKETS - 1 :]]
    assert [b[0] for b in buckets] == ends[:-1] and [b[1] for b in buckets] == ends[1:]
    assert [b[2] for b in buckets] == [e.current_ua for e in samples[-BUCKETS:]]
