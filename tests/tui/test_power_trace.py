"""The detail screen's current trace: built from manager-level events, drawn as text."""

from __future__ import annotations

from fleet.telemetry.events import EnergyEvent, PowerEvent, ResultEvent, TraceEvent
from fleet.tui.power_trace import PowerTrace
from fleet.tui.widgets.power_trace import render_trace

METER = "meter:ppk2 C3A1F0E2"
T0 = 1_700_000_000.0


def trace_event(t_us: int, highs: tuple[float | None, ...],
                windows: tuple[tuple[float, float, float], ...] = ()) -> TraceEvent:  # fmt: skip
    """A trace starting at `t_us` of meter time; the host's mapping of it is deliberately off."""
    lows = tuple(None if h is None else 2000.0 for h in highs)
    return TraceEvent(board="b", uid="01", host_time=T0 + 0.3, device_time_us=t_us, bucket_us=2000.0, min_ua=lows,
                      max_ua=highs, windows=windows, source=METER)  # fmt: skip


def energy() -> EnergyEvent:
    return EnergyEvent(board="b", uid="01", host_time=T0 + 0.1, device_time_us=1, inference_count=1, energy_uj=8.791,
                       duration_us=444.0, power_mw=19.8, method="marker", source=METER)  # fmt: skip


def result(end: float) -> ResultEvent:
    return ResultEvent(board="b", uid="01", host_time=end, device_time_us=1, latency_us=444, inference_count=1,
                       input_id=0, model="00000000", dtype="int8", values=(0.0,))  # fmt: skip


def power(t: float, ua: int, source: str = "modelled") -> PowerEvent:
    return PowerEvent(board="b", uid="01", host_time=t, device_time_us=1, voltage_mv=3300, current_ua=ua,
                      energy_uj=1, power_mw=ua * 3.3 / 1000, source=source)  # fmt: skip


def test_meter_buckets_are_columns_and_windows_shade_the_ones_they_overlap():
    trace = PowerTrace()
    trace.add_power(power(T0, 2000))  # the board's own figure, until the meter's trace arrives
    trace.add_trace(trace_event(0, (2000.0, 6000.0, 2000.0)))
    # The window [3.056, 3.5] ms comes with the next trace, on the meter's clock: bucket 1.
    trace.add_trace(trace_event(6000, (None, 2000.0), ((3056.0, 3500.0, 8.791),)))
    trace.add_energy(energy())
    trace.add_result(result(T0 + 0.0035))  # the meter's window already covers it
    trace.add_power(power(T0 + 0.01, 9999))  # ignored: the meter's current is the trace
    columns = trace.columns(10)
    assert [c.max_ua for c in columns] == [2000.0, 6000.0, 2000.0, None, 2000.0]
    assert [bool(c.windows) for c in columns] == [False, True, False, False, False]
    assert columns[1].windows[0].energy_uj == 8.791
    assert trace.source == METER and trace.method == "marker"
    assert trace.columns(2)[0].start == 0.006  # the newest buckets


def test_render_names_the_source_shades_windows_and_labels_their_energy():
    trace = PowerTrace()
    trace.add_trace(trace_event(0, (2000.0,) * 8 + (6000.0,) + (2000.0,) * 11, ((17056.0, 17500.0, 8.791),)))
    trace.add_energy(energy())
    text = render_trace(trace, 20, rows=2)
    lines = text.plain.split("\n")
    assert lines[0].startswith(f"current from {METER} · last 40 ms · shaded: inference (marker windows)")
    assert lines[1][8] == "█" and lines[1][7] == " "  # the peak reaches the top row
    assert lines[3][8:13] == "8.79 " and lines[3][:8] == " " * 8  # the µJ under its window
    assert "peak 6.00 mA · µJ/inference: last 8.791, mean 8.791 over the last 1" in lines[4]
    shaded = [span for span in text.spans if "on" in str(span.style)]
    assert shaded and all(text.plain[s.start : s.end] in "█▄ " for s in shaded)


def test_without_a_meter_windows_come_from_latency_and_carry_no_energy():
    trace = PowerTrace()
    for k in range(4):
        trace.add_power(power(T0 + 0.1 * k, 2000 + 1000 * k, "sensor"))
    trace.add_result(result(T0 + 0.25))
    columns = trace.columns(80)
    assert [c.max_ua for c in columns] == [2000, 3000, 4000, 5000]
    # A POWER sample is the average since the previous one: the bucket (0.2, 0.3] holds 0.25.
    assert [bool(c.windows) for c in columns] == [False, False, False, True]
    text = render_trace(trace, 80).plain
    assert "current from sensor" in text and "latency windows, no per-inference energy" in text
    assert "µJ/inference: - (needs a meter)" in text
