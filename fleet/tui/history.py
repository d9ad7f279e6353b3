"""Per-board time series for the detail screen's charts, fed by every result and power event.

Each series is a `MinMaxDecimator` (fixed-width buckets, bounded capacity), so a board
streaming 200 results/s costs O(1) per sample and a chart of 60 columns reads 60 buckets,
never the raw samples. Time is the events' `host_time`, and "now" is the newest sample
seen, not the wall clock, so a replay (or a test) draws the same chart every time.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from fleet.telemetry.decimate import Bucket, MinMaxDecimator
from fleet.telemetry.events import PowerEvent, ResultEvent
from fleet.tui.power_trace import PowerTrace

BUCKET_S = 0.5
CAPACITY = 240  # buckets: two minutes at BUCKET_S
RECENT = 50  # results kept as they came, for the "recent results" list


@dataclass(slots=True)
class BoardHistory:
    """The charts' data for one board (latency, power, and each output/class)."""

    latency_ms: MinMaxDecimator = field(default_factory=lambda: MinMaxDecimator(BUCKET_S, CAPACITY))
    power_mw: MinMaxDecimator = field(default_factory=lambda: MinMaxDecimator(BUCKET_S, CAPACITY))
    outputs: dict[str, MinMaxDecimator] = field(default_factory=dict)  # by label (or "#index")
    recent: deque[ResultEvent] = field(default_factory=lambda: deque(maxlen=RECENT))
    newest: float = 0.0
    model: str = ""  # hash prefix of the model the output series belong to
    power_source: str | None = None  # a meter's label once one feeds the board: its samples alone are charted
    trace: PowerTrace = field(default_factory=PowerTrace)  # current and inference windows, at the meter's resolution
    # Labels results taught (index -> label), for outputs whose model's labels are unknown.
    _learned: dict[int, str] = field(default_factory=dict)
    # The series of outputs 0..n-1 in order, while the model and labels stay the same.
    _dense: list[MinMaxDecimator] | None = None
    _dense_labels: tuple[str, ...] | None = None

    def add_result(self, event: ResultEvent, labels: tuple[str, ...] | None = None) -> None:
        t = event.host_time
        if event.model != self.model:
            # Another model (a deploy, a rollback): its outputs mean something else; start over.
            self.model = event.model
            self.outputs.clear()
            self._learned.clear()
            self._dense = None
        if t > self.newest:
            self.newest = t
        self.latency_ms.add(t, event.latency_us / 1000)
        self.recent.append(event)
        label = event.label
        if label is not None and event.top_index is not None and label not in self.outputs:
            self._learn_label(event.top_index, label)
        values = event.values
        if event.indices is None:
            # Every output in order (not top-k): the same series each time, looked up once.
            dense = self._dense
            if dense is None or len(dense) != len(values) or labels is not self._dense_labels:
                dense = self._dense = [self._series(i, labels) for i in range(len(values))]
                self._dense_labels = labels
            for series, value in zip(dense, values):
                series.add(t, value)
        else:
            for index, value in zip(event.indices, values, strict=False):
                self._series(index, labels).add(t, value)

    def _series(self, index: int, labels: tuple[str, ...] | None) -> MinMaxDecimator:
        name = labels[index] if labels and index < len(labels) else self._learned.get(index, f"#{index}")
        series = self.outputs.get(name)
        if series is None:
            series = self.outputs[name] = MinMaxDecimator(BUCKET_S, CAPACITY)
        return series

    def _learn_label(self, index: int, label: str) -> None:
        # Results name only their top class; once a label is known, its "#i" series is renamed.
        self._learned[index] = label
        self._dense = None
        old = self.outputs.pop(f"#{index}", None)
        if old is not None:
            self.outputs[label] = old

    def add_power(self, event: PowerEvent) -> None:
        if event.source.startswith("meter:"):
            self.power_source = event.source
        elif self.power_source is not None:
            return  # the board's own (modelled) figure would interleave with the meter's
        self.newest = max(self.newest, event.host_time)
        self.power_mw.add(event.host_time, event.power_mw)

    def window(self, series: MinMaxDecimator, width: int) -> list[Bucket]:
        """The newest `width` buckets of `series` that end no later than the newest sample."""
        since = self.newest - width * series.width
        return series.buckets(since)[-width:]


class Histories:
    """`BoardHistory` by board uid, created on first sight."""

    def __init__(self) -> None:
        self._by_uid: dict[str, BoardHistory] = {}

    def get(self, uid: str) -> BoardHistory:
        history = self._by_uid.get(uid)
        if history is None:
            history = self._by_uid[uid] = BoardHistory()
        return history
