"""When a virtual board infers, and the busy time that costs: the engine's inference schedule.

Inference runs while a model runs and the RESULTS stream is on: one inference every
max(latency, result_interval), each costing `latency_us` of simulated busy time (which the
power model charges at active power). Busy time only ever grows: an inference cut short
(the model switched or stopped, results turned off, a lagging schedule skipped) keeps the
time it ran, which a POWER sample may already have counted. Times are the clock's
microseconds; nothing here reads a clock or runs a model, the engine does both.
"""

from __future__ import annotations

Span = tuple[int, int]  # (start_us, end_us) of busy time, clock time


class InferenceSchedule:
    """The inference in progress, and the busy time accounted since boot (a reset makes a new one)."""

    def __init__(self, now_us: int) -> None:
        self.latency_us: int | None = None  # of the running model; None: no model runs
        self.results = False  # the RESULTS stream is on
        self.start_us = now_us  # clock time the inference in progress started
        self.busy_us = 0  # busy time accounted so far (the inference in progress not yet)
        self.count = 0  # inferences completed since boot
        self.tx_blocked = False  # the last inference waited for room on the serial port

    @property
    def active(self) -> bool:
        """Whether inferences run now (a model runs and results are on)."""
        return self.latency_us is not None and self.results

    def finish_us(self) -> int:
        """When the inference in progress completes (only while `active`)."""
        assert self.latency_us is not None
        return self.start_us + self.latency_us

    def busy_at(self, t: int) -> int:
        """Busy time by clock time `t`, counting the part of the inference in progress."""
        busy = self.busy_us
        if self.active and self.start_us < t:
            busy += min(t - self.start_us, self.latency_us)  # type: ignore[type-var]
        return busy

    def start(self, now_us: int) -> None:
        """A new inference starts now (a model was started, or results turned on)."""
        self.start_us = now_us
        self.tx_blocked = False

    def cut(self, now_us: int) -> Span | None:
        """End the inference in progress unfinished; the time it ran stays busy time, so busy
        time never runs backwards. Returns that busy span, if any."""
        busy = self.busy_at(now_us)
        span = (self.start_us, self.start_us + busy - self.busy_us) if busy > self.busy_us else None
        self.busy_us = busy
        self.start_us = now_us
        return span

    def complete(self, now_us: int, result_interval_ms: int) -> Span:
        """The inference in progress finished (it was due by `now_us`): account it, schedule
        the next one. Returns its busy span."""
        latency = self.latency_us
        assert latency is not None
        finish = self.finish_us()
        self.busy_us += latency
        self.count += 1
        self.start_us += max(latency, result_interval_ms * 1000)
        if self.tx_blocked:  # the board waited on the serial port: the next run starts now
            self.start_us = max(self.start_us, now_us)
            self.tx_blocked = False
        return finish - latency, finish
