"""One board's measurement: which streamed events count, and when there are enough.

A collector is armed once the board runs the model (its deploy confirmed or skipped). It
skips `warmup` results of that model, then keeps every result and every POWER sample.
It is done when it holds at least `inferences` results and at least `min_power_samples`
POWER samples inside the span of those results (a fast model keeps streaming until the
energy window is long enough); with a meter in the board's supply, once the meter's
per-inference figure (an `energy` event, which comes after its result) has arrived for
`inferences` of the measured results. A reset (a boot event, or the board's count or clock
going back) starts the measurement over: the energy and counts since boot restarted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from fleet.telemetry.events import BootEvent, EnergyEvent, PowerEvent, ResultEvent, StateEvent, TelemetryEvent

Phase = Literal["deploying", "warmup", "measuring", "done", "failed"]
MAX_RESTARTS = 3


@dataclass(slots=True)
class BoardCollector:
    """Events of one board for one model (see the module doc). Feed it with `feed`."""

    board: str
    uid: str
    prefix: str  # the model's sha256 prefix, as results carry it (8 hex digits)
    inferences: int
    warmup: int
    min_power_samples: int = 3
    metered: bool = False  # a meter feeds this board: done only once its per-inference figures are in
    phase: Phase = "deploying"
    reason: str | None = None
    restarts: int = 0
    results: list[ResultEvent] = field(default_factory=list)
    powers: list[PowerEvent] = field(default_factory=list)  # the board's own POWER samples
    meter_energies: list[EnergyEvent] = field(default_factory=list)  # a meter's per-inference figures
    _to_skip: int = 0
    _last: ResultEvent | None = None

    def arm(self) -> None:
        """The board runs the model: start counting (warmup first)."""
        self._restart()

    def fail(self, reason: str) -> None:
        if self.phase != "done":
            self.phase, self.reason = "failed", reason

    @property
    def active(self) -> bool:
        return self.phase in ("warmup", "measuring")

    @property
    def measured(self) -> int:
        return len(self.results)

    def feed(self, event: TelemetryEvent) -> None:
        """Take one event of this board."""
        if not self.active:
            return
        if isinstance(event, BootEvent):
            self._reset_seen("the board reset")
        elif isinstance(event, ResultEvent):
            self._on_result(event)
        elif isinstance(event, EnergyEvent):
            if self.phase == "measuring":
                self.meter_energies.append(event)
                self._check_done()
        elif isinstance(event, PowerEvent):
            if event.source.startswith("meter:"):
                return  # the meter's own clock: its energy arrives per inference (EnergyEvent)
            if self.powers and event.device_time_us < self.powers[-1].device_time_us:
                self._reset_seen("the board's clock went back")
            elif self.phase == "measuring":
                self.powers.append(event)
                self._check_done()
        elif isinstance(event, StateEvent) and event.state != "online":
            self.reason = f"link {event.state}: {event.reason}" if event.reason else f"link {event.state}"

    def _on_result(self, event: ResultEvent) -> None:
        last = self._last
        if last is not None and (event.inference_count < last.inference_count or event.device_time_us < last.device_time_us):
            self._reset_seen("the board's inference count went back")
            if not self.active:
                return
        if event.model != self.prefix:
            return  # another model's result (before the switch): not ours
        self._last = event
        if self._to_skip > 0:
            self._to_skip -= 1
            if self._to_skip == 0:
                self.phase = "measuring"
            return
        self.results.append(event)
        self._check_done()

    def _check_done(self) -> None:
        if len(self.results) < self.inferences:
            return
        if self.metered:  # wait for the meter's figure of each measured inference
            first = self.results[0].inference_count
            if sum(1 for e in self.meter_energies if e.inference_count >= first) >= self.inferences:
                self.phase = "done"
            return
        start, end = self.results[0].device_time_us, self.results[-1].device_time_us
        inside = sum(1 for p in self.powers if start <= p.device_time_us <= end)
        if inside >= self.min_power_samples:
            self.phase = "done"

    def _reset_seen(self, why: str) -> None:
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            self.fail(f"{why} {self.restarts} times during the measurement")
            return
        self._restart()

    def _restart(self) -> None:
        self.results.clear()
        self.powers.clear()
        self.meter_energies.clear()
        self._last = None
        self._to_skip = self.warmup
        self.phase = "warmup" if self.warmup > 0 else "measuring"

    @property
    def lost_results(self) -> int:
        """Inferences the board counted between measured results whose result never arrived."""
        if len(self.results) < 2:
            return 0
        return self.results[-1].inference_count - self.results[0].inference_count - (len(self.results) - 1)
