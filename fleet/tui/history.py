"""Per-board time series for the detail screen's charts, fed by every result and power event.

Each series is a `MinMaxDecimator` (fixed-width buckets, bounded capacity), so a board
streaming 200 results/s costs O(1) per sample and a chart of 60 columns reads 60 buckets,
never the raw samples. Time is the events' `host_time`, and "now" is the newest sample
seen, not the wall clock, so a replay (or a test) draws the same chart every time.

Results and power samples are held (`BoardHistory.pending_*`) and folded in bulk when a
reader asks (`Histories.get`) or `FOLD_AT` are held: one board's results share a model and
its outputs' layout, so a few hundred fold with a bisection per bucket and C-speed list work
per sample, instead of seven Python calls per result. Folding in bulk gives exactly what
folding each event in turn gives (tests/tui/test_feed_batches.py); whatever could change the
series (another model, a label learned, a meter taking over) folds one by one. A result's
labels are those its board's state holds when it is folded, a fraction of a second after
it arrived: labels that became known meanwhile name its series at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from fleet.telemetry.decimate import Bucket, MinMaxDecimator
from fleet.telemetry.events import PowerEvent, ResultEvent
from fleet.tui import event_fields as f
from fleet.tui.power_trace import PowerTrace

BUCKET_S = 0.5
CAPACITY = 240  # buckets: two minutes at BUCKET_S
RECENT = 50  # results kept as they came, for the "recent results" list
FOLD_AT = 256  # events a board holds before they are folded without a reader asking

Labels = Mapping[str, tuple[str, ...]]  # a model's output labels, by model hash (BoardState.model_labels)


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
    # Events not folded yet (see the module doc); results and power feed separate series, so
    # only the order within each list matters.
    pending_results: list[ResultEvent] = field(default_factory=list)
    pending_powers: list[PowerEvent] = field(default_factory=list)

    def fold(self, labels: Labels) -> None:
        """Fold the pending events, with each result's labels looked up in `labels` by its model."""
        results, powers = self.pending_results, self.pending_powers
        if results:
            self.add_results(results, labels)
            self.trace.add_results(results)
            results.clear()
        if powers:
            self.add_powers(powers)
            self.trace.add_powers(powers)
            powers.clear()

    def add_results(self, events: Sequence[ResultEvent], labels: Labels) -> None:
        """`add_result` of each event in turn (with its model's labels), in bulk when nothing in
        them changes which series there are: one model, already charted, every output in
        order, and no top label still to learn."""
        # Checks over the whole list at C speed, and no tuple per event: each is an allocation
        # the collector counts towards its next young-generation pass.
        rows = f.rows(events)
        models = set(map(f.MODEL, rows))
        dense = self._dense
        if len(models) == 1 and dense is not None and set(map(f.INDICES, rows)) == {None}:
            (model,) = models
            values = list(map(f.VALUES, rows))
            top = set(map(f.LABEL, rows))
            top.discard(None)
            if (model == self.model and labels.get(model) is self._dense_labels
                    and set(map(len, values)) == {len(dense)} and self.outputs.keys() >= top):  # fmt: skip
                times = list(map(f.TIME, rows))
                newest = max(times)
                if newest > self.newest:
                    self.newest = newest
                self.latency_ms.extend(times, [us / 1000 for us in map(f.LATENCY, rows)])
                self.recent.extend(events[-RECENT:])
                for series, column in zip(dense, zip(*values)):
                    series.extend(times, column)
                return
        for event in events:
            self.add_result(event, labels.get(event.model))

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

    def add_powers(self, events: Sequence[PowerEvent]) -> None:
        """`add_power` of each event in turn; in bulk unless a meter's samples are among them."""
        rows = f.rows(events)
        if any(source.startswith("meter:") for source in set(map(f.SOURCE, rows))):
            for event in events:
                self.add_power(event)
        elif self.power_source is None and rows:
            times = list(map(f.TIME, rows))
            self.newest = max(self.newest, max(times))
            self.power_mw.extend(times, list(map(f.POWER, rows)))
        # else: a meter feeds this board; the board's own figures are not charted

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
    """`BoardHistory` by board uid, created on first sight; `labels(uid)` gives a board's
    labels by model (the source's `BoardState.model_labels`) when its results are folded."""

    def __init__(self, labels: Callable[[str], Labels] = lambda uid: {}) -> None:
        self._by_uid: dict[str, BoardHistory] = {}
        self._labels = labels

    def get(self, uid: str) -> BoardHistory:
        """A board's history with every event received so far folded in: what a chart reads."""
        history = self.held(uid)
        if history.pending_results or history.pending_powers:
            history.fold(self._labels(uid))
        return history

    def held(self, uid: str) -> BoardHistory:
        """A board's history as it is, events maybe pending: what the feed appends to."""
        history = self._by_uid.get(uid)
        if history is None:
            history = self._by_uid[uid] = BoardHistory()
        return history

    def fold_full(self) -> None:
        """Fold the boards holding `FOLD_AT` events or more, so what is held stays bounded."""
        for uid, history in self._by_uid.items():
            if len(history.pending_results) + len(history.pending_powers) >= FOLD_AT:
                history.fold(self._labels(uid))
