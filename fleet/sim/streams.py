"""STREAM_CONFIG as the board applies it: which streams run, at what rates."""

from __future__ import annotations

from dataclasses import dataclass, field

from fleet.protocol import LogLevel, Stream, StreamConfig, StreamConfigAck

# POWER samples come no faster than this (the board's "fastest", asked for with 0).
MIN_POWER_INTERVAL_MS = 10
_KNOWN_STREAMS = Stream.RESULTS | Stream.POWER | Stream.LOG


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """The applied stream configuration. After boot every stream is off."""

    streams: Stream = Stream.NONE
    log_level: LogLevel = LogLevel.INFO
    result_interval_ms: int = 0
    power_interval_ms: int = MIN_POWER_INTERVAL_MS
    top_k: int = 0
    # Tested for every event the board makes: plain bools, as `Flag` operators cost microseconds.
    results: bool = field(init=False)
    power: bool = field(init=False)
    log: bool = field(init=False)

    def __post_init__(self) -> None:
        for name, bit in (("results", Stream.RESULTS), ("power", Stream.POWER), ("log", Stream.LOG)):
            object.__setattr__(self, name, bit in self.streams)

    @classmethod
    def apply(cls, request: StreamConfig) -> StreamSettings:
        """Clamp a request to what the board does: known stream bits, levels 0-3, POWER >= 10 ms."""
        return cls(
            streams=Stream(request.streams & _KNOWN_STREAMS),
            log_level=LogLevel(min(request.log_level, LogLevel.ERROR)),
            result_interval_ms=request.result_interval_ms,
            power_interval_ms=max(request.power_interval_ms, MIN_POWER_INTERVAL_MS),
            top_k=request.top_k,
        )

    def ack(self) -> StreamConfigAck:
        return StreamConfigAck(
            int(self.streams), int(self.log_level), self.result_interval_ms, self.power_interval_ms, self.top_k
        )

    def logs(self, level: LogLevel) -> bool:
        return self.log and level >= self.log_level
