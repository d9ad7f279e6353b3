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

    def add_result(self, event: ResultEvent, labels: tuple[str, ...] | None = None) -> None:
        t = event.host_time
        if event.model != self.model:
            # Another model (a deploy, a rollback): its outputs mean something else; start over.
            self.model = event.model
            self.outputs.clear()
        self.newest = max(self.newest, t)
        self.latency_ms.add(t, event.latency_us / 1000)
        self.recent.append(event)
        indices = event.indices if event.indices is not None else range(len(event.values))
        for index, value in zip(indices, event.values, strict=False):
            name = labels[index] if labels and index < len(labels) else f"#{index}"
            series = self.outputs.get(name)
            if series is None:
                series = self.outputs[name] = MinMaxDecimator(BUCKET_S, CAPACITY)
            series.add(t, value)
        if event.label is not None and event.top_index is not None:
            self._learn_label(event.top_index, event.label)

    def _learn_label(self, index: int, label: str) -> None:
        # Results name only their top class; once a label is known, its "#i" series is renamed.
        old = self.outputs.pop(f"#{index}", None)
        if old is not None and label not in self.outputs:
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
