"""`fleet bench`: latency and energy per inference of a model on every board (docs/bench.md).

- `session.run_bench`: deploy through a FleetManager, stream, collect, compute a report.
- `collector.BoardCollector`: which of a board's events count (warmup, resets, enough data).
- `figures`: pure functions from result and POWER events to latency, rate, energy, power.
- `report`: the pydantic report (JSON, CSV); `compare`: ratios against a baseline;
  `chart`: the PNG (matplotlib, imported lazily).
"""
