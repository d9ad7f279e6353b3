"""Live statistics of one board, folded from its telemetry events.

Formulas (see docs/telemetry.md for their limits):

- inference rate = (count_last - count_first) / (t_last - t_first) over the results of the
  last `window_s` seconds, with `inference_count` and `device_time_us` from the board, so
  host-side batching and jitter do not show up as rate noise, and inferences the board ran
  but did not report (result_interval_ms throttling on firmware) still count.
- latency p50/p99: nearest-rank percentiles (value at rank ceil(p/100 * n)) of the last
  `latency_n` results' `latency_us`.
- power: the last POWER sample, voltage x average current since the previous sample.
- energy per inference = (E(p1) - E(p0)) / (N(p1) - N(p0)), where p0, p1 are the first and
  last POWER samples of the window (p0 no earlier than the first result in it), E is the
  board's cumulative `energy_uj` and N(t) the `inference_count` of the last result at or
  before t. It is the board's whole energy (idle time included) divided by the inferences
  it ran: the energy cost of an inference at the current duty cycle.
- with a meter in the board's supply (`meter:` power events, `energy` events), power is the
  meter's last sample and energy per inference the mean of the meter's per-inference
  figures over the window: the board's own (modelled) figures stay in `board_power_mw`.
- class counts: results per top label (or `#index` without labels), classifiers only.

A board reset (inference count or device clock going back) starts the windows over.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from fleet.telemetry.events import EnergyEvent, PowerEvent, ResultEvent

DEFAULT_WINDOW_S = 5.0
DEFAULT_LATENCY_N = 200


def percentile(sorted_values: list[int], p: float) -> int | None:
    """Nearest-rank percentile of an ascending list; None when empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(slots=True)
class LiveStats:
    """Rolling statistics of one board; feed it with `on_result` and `on_power`."""

    window_s: float = DEFAULT_WINDOW_S
    latency_n: int = DEFAULT_LATENCY_N
    results: int = 0
    power_samples: int = 0
    last_result: ResultEvent | None = None
    last_power: PowerEvent | None = None
    class_counts: Counter[str] = field(default_factory=Counter)
    _counts: deque[tuple[int, int]] = field(default_factory=deque)  # (device_time_us, inference_count)
    _latencies: deque[int] = field(init=False)  # the last `latency_n`
    _energy: deque[tuple[int, int]] = field(default_factory=deque)  # (device_time_us, energy_uj)
    last_meter_power: PowerEvent | None = None
    _inference_energy: deque[tuple[float, float]] = field(default_factory=deque)  # (host_time, energy_uj), meter
    _window_us: int = field(init=False)

    def __post_init__(self) -> None:
        self._latencies = deque(maxlen=self.latency_n)
        self._window_us = int(self.window_s * 1e6)

    def on_result(self, event: ResultEvent) -> None:
        self.on_stream((event,))

    def on_power(self, event: PowerEvent) -> None:
        self.on_stream((event,))

    def on_stream(self, events: Sequence[ResultEvent | PowerEvent]) -> None:
        """Fold results and power samples of this board, in order: `on_result` and
        `on_power` of each, with the windows trimmed once at the end (a read's events
        arrive together; trimming after each gives the same windows, their times only grow)."""
        counts, energy, latencies, class_counts = self._counts, self._energy, self._latencies, self.class_counts
        results = samples = 0
        last_result = last_power = None
        for event in events:
            # Fields read from the event's dict: an attribute of a pydantic model costs
            # several times as much (`fleet.tui.event_fields`), and this runs for every event.
            d = event.__dict__
            t = d["device_time_us"]
            if d["kind"] == "result":
                n = d["inference_count"]
                if counts and (t < counts[-1][0] or n < counts[-1][1]):
                    self.restart()
                results += 1
                last_result = event
                counts.append((t, n))
                latencies.append(d["latency_us"])
                index = d["top_index"]
                if index is not None:
                    label = d["label"]
                    if label:
                        class_counts[label] += 1
                    elif label is not None or len(d["values"]) > 1:
                        class_counts[f"#{index}"] += 1
            elif d["source"].startswith("meter:"):  # the meter's clock and energy, not the board's
                self.last_meter_power = event
            else:
                e = d["energy_uj"]
                if energy and (t < energy[-1][0] or e < energy[-1][1]):
                    self.restart()
                samples += 1
                last_power = event
                energy.append((t, e))
        if results:
            self.results += results
            self.last_result = last_result
            if counts:  # (a reset after the last result may have emptied it)
                _trim(counts, counts[-1][0] - self._window_us)
        if samples:
            self.power_samples += samples
            self.last_power = last_power
            if energy:
                _trim(energy, energy[-1][0] - self._window_us)

    def on_energy(self, event: EnergyEvent) -> None:
        """A meter's energy figure for one inference."""
        self._inference_energy.append((event.host_time, event.energy_uj))
        while self._inference_energy and self._inference_energy[0][0] < event.host_time - self.window_s:
            self._inference_energy.popleft()

    def restart(self) -> None:
        """Forget the windows (the board rebooted); totals and class counts are kept."""
        self._counts.clear()
        self._latencies.clear()
        self._energy.clear()

    # --- figures (computed on demand: a display asks a few times a second) -----------

    @property
    def inference_rate(self) -> float | None:
        """Inferences per second over the window, or None with fewer than two results."""
        if len(self._counts) < 2:
            return None
        (t0, n0), (t1, n1) = self._counts[0], self._counts[-1]
        return (n1 - n0) / ((t1 - t0) / 1e6) if t1 > t0 else None

    def latency_percentile_us(self, p: float) -> int | None:
        return percentile(sorted(self._latencies), p)

    @property
    def latency_p50_us(self) -> int | None:
        return self.latency_percentile_us(50)

    @property
    def latency_p99_us(self) -> int | None:
        return self.latency_percentile_us(99)

    @property
    def power_mw(self) -> float | None:
        """The meter's last figure when a meter feeds this board, else the board's."""
        if self.last_meter_power is not None:
            return self.last_meter_power.power_mw
        return self.board_power_mw

    @property
    def board_power_mw(self) -> float | None:
        return self.last_power.power_mw if self.last_power else None

    @property
    def power_source(self) -> str | None:
        """Where `power_mw` comes from (`fleet.telemetry.power_source`)."""
        shown = self.last_meter_power or self.last_power
        return shown.source if shown is not None else None

    @property
    def energy_per_inference_uj(self) -> float | None:
        """Energy per inference: the meter's mean over the window when a meter feeds this
        board, else the board's duty-cycle figure (module doc); None without enough data."""
        if self._inference_energy:
            return sum(e for _, e in self._inference_energy) / len(self._inference_energy)
        return self.board_energy_per_inference_uj

    @property
    def board_energy_per_inference_uj(self) -> float | None:
        """The board's own figure (module doc), or None without enough data."""
        if len(self._energy) < 2 or not self._counts:
            return None
        # The first energy sample at or after the first result in the window (bisect: this
        # runs for every board on every UI refresh, so no copies of the window).
        i = bisect.bisect_left(self._energy, self._counts[0][0], key=_time)
        if len(self._energy) - i < 2:
            return None
        (t0, e0), (t1, e1) = self._energy[i], self._energy[-1]
        n0 = self._count_at(t0)
        n1 = self._count_at(t1)
        if n0 is None or n1 is None or n1 <= n0:
            return None
        return (e1 - e0) / (n1 - n0)

    def _count_at(self, t: int) -> int | None:
        i = bisect.bisect_right(self._counts, t, key=_time) - 1
        return self._counts[i][1] if i >= 0 else None


def _time(sample: tuple[int, int]) -> int:
    return sample[0]


def _trim(window: deque[tuple[int, int]], oldest: int) -> None:
    # Keep one sample at or before the cut, so a window always spans the full period.
    while len(window) > 2 and window[1][0] <= oldest:
        window.popleft()
