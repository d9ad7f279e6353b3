"""Meter reduction without I/O: a PPK2's (or an LPM01A's) stream through the host's code, stage by stage.

    python benchmarks/bench_meter_reduce.py [--seconds 4] [--reads 4020 20000] [--repeat 3]
    python benchmarks/bench_meter_reduce.py --meter lpm01a [--seconds 4] [--reads 900 4500] [--repeat 3]

A board's activity (444 µs inferences every 20 ms on the nano33ble power model, as the
gesture model runs in `fleet sim`) is drawn by the PPK2 emulator's renderer and encoded as
a PPK2 sends it, once; the host's code then consumes it in reads of each `--reads` size
(4020 B: what a tty hands over per read; 20000 B: the driver's 50 ms batch), on this
process's CPU (`time.process_time()`, best of `--repeat`), nothing else running in it:

- decode: `SampleDecoder.feed` and the marker bit (what `Ppk2Driver.read` does per read);
- reduce: `EnergyReducer.feed_samples` (integrate, cut marker pulses) and the results;
- trace: `TraceDecimator.feed`, and `take` every 100 ms;
- session: the whole of it as `MeterSession` does it per read (decode excluded): clock
  map, trace, reduction, the power, trace and energy events built.

Printed per stage: ns per sample and the cores 8 meters at 100,000 samples/s would take.
The live benchmark (`bench_meters.py`) adds the port reads and the manager.

`--meter lpm01a`: the same board drawn by the LPM01A emulator as `fleet sim --meter lpm01a`
sets it up (10 kHz `ascii_dec` lines, a `TimeStamp` line per inference), decoded in reads of
each size (900 B: ~10 ms of the stream; 4500 B: the driver's 50 ms batch) two ways:
`AsciiDecoder.feed` (what `Lpm01aDriver.read` does) and `parse_lines`, one line at a time
(what it did before). Its reduction is the PPK2's stages' code.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from fleet.meters.chunk import MeterChunk  # noqa: E402
from fleet.meters.discovery import MeterCandidate  # noqa: E402
from fleet.meters.energy import EnergyReducer, ResultMark  # noqa: E402
from fleet.meters.lpm01a_protocol import AsciiDecoder, parse_lines  # noqa: E402
from fleet.meters.ppk2_protocol import Calibration, SampleDecoder, encode_samples  # noqa: E402
from fleet.meters.session import MeterSession  # noqa: E402
from fleet.meters.trace import TraceDecimator  # noqa: E402
from fleet.profiles import get_profile  # noqa: E402
from fleet.sim.clock import FakeClock  # noqa: E402
from fleet.sim.meters.activity import Activity  # noqa: E402
from fleet.sim.meters.lpm01a_emulator import Lpm01aDevice  # noqa: E402
from fleet.sim.power import PowerModel  # noqa: E402

PERIOD_US = 10.0
LATENCY_US = 444
EVERY_US = 20_000
METERS, RATE = 8, 100_000


class Events:
    """The manager's `publish`: keeps the events."""

    def __init__(self) -> None:
        self.events: list[object] = []

    def publish(self, event: object) -> None:
        self.events.append(event)


def board(seconds: float) -> tuple[Activity, list[tuple[int, int]]]:
    """The board's activity: a 444 µs inference every 20 ms for `seconds`."""
    profile = get_profile("nano33ble")
    activity = Activity(PowerModel(idle_mw=profile.idle_mw, active_mw=profile.active_mw, voltage_mv=3300))
    spans = [(k * EVERY_US + 5_003, k * EVERY_US + 5_003 + LATENCY_US) for k in range(int(seconds * 1e6 / EVERY_US))]
    for span in spans:
        activity.add_span(*span)
    return activity, spans


def stream(seconds: float) -> tuple[bytes, list[tuple[int, int]]]:
    activity, spans = board(seconds)
    count = int(seconds * 1e6 / PERIOD_US)
    samples = activity.render(0.0, count, PERIOD_US, 3300, 10**15)
    return encode_samples(samples.current_a, samples.marker.astype(np.uint8), 0, Calibration()), spans


def chunks(data: bytes, size: int) -> list[MeterChunk]:
    decoder = SampleDecoder(Calibration(), 3300)
    out = []
    for k in range(0, len(data), size):
        current, logic = decoder.feed(data[k : k + size])
        t0 = (decoder.samples - len(current)) * PERIOD_US
        end_us = t0 + len(current) * PERIOD_US
        out.append(MeterChunk(t0, PERIOD_US, current, 3.3, (logic & 1) != 0, 1000.0 + end_us / 1e6))
    return out


def results_due(spans: list[tuple[int, int]], chunk_list: list[MeterChunk]) -> list[list[ResultMark]]:
    """The results a host has by the end of each chunk (2 ms after their inference ended)."""
    due: list[list[ResultMark]] = [[] for _ in chunk_list]
    i = 0
    for n, (_, end) in enumerate(spans, 1):
        while i < len(chunk_list) - 1 and chunk_list[i].end_us < end + 2_000:
            i += 1
        due[i].append(ResultMark(n, end, LATENCY_US, float(end)))
    return due


def best(run, repeat: int) -> float:  # noqa: ANN001
    """The least CPU time of `repeat` runs of `run(prepare())`, preparing (a meter's start) untimed."""
    times = []
    prepare, work = run
    for _ in range(repeat):
        state = prepare()
        t = time.process_time()
        work(state)
        times.append(time.process_time() - t)
    return min(times)


def measure(data: bytes, spans: list[tuple[int, int]], size: int, repeat: int) -> dict[str, float]:
    chunk_list = chunks(data, size)
    due = results_due(spans, chunk_list)

    def decoder() -> SampleDecoder:
        return SampleDecoder(Calibration(), 3300)  # its current table is built once, at the meter's start

    def decode(decoder: SampleDecoder) -> None:
        for k in range(0, len(data), size):
            _, logic = decoder.feed(data[k : k + size])
            _ = (logic & 1) != 0

    def reduce(_: None) -> None:
        reducer = EnergyReducer("marker")
        for chunk, marks in zip(chunk_list, due, strict=True):
            reducer.feed_samples(chunk.t0_us, chunk.period_us, chunk.current_a, chunk.volts, chunk.marker)
            for mark in marks:
                reducer.feed_result(mark)
        assert reducer.unmatched_results == 0

    def trace(_: None) -> None:
        decimator = TraceDecimator()
        next_take = 100_000.0
        for chunk in chunk_list:
            decimator.feed(chunk.t0_us, chunk.period_us, chunk.current_a)
            if chunk.end_us >= next_take:
                decimator.take()
                next_take += 100_000.0

    def session(_: None) -> None:
        events = Events()
        candidate = MeterCandidate("ppk2", "/dev/null", "BENCH", "b", "virtual", None)
        s = MeterSession(events, candidate, "b", "0a")
        for chunk, marks in zip(chunk_list, due, strict=True):
            s.on_chunk(chunk)
            for mark in marks:
                s._publish(s.reducer.feed_result(mark))  # what on_result does once the host time is mapped
        assert s.reducer.unmatched_results == 0 and len(events.events) > len(spans)

    samples = len(data) // 4
    nothing = lambda: None  # noqa: E731
    stages = {"decode": (decoder, decode), "reduce": (nothing, reduce), "trace": (nothing, trace),
              "session": (nothing, session)}  # fmt: skip
    return {name: best(run, repeat) / samples for name, run in stages.items()}


def lpm01a_stream(seconds: float) -> bytes:
    """What the LPM01A emulator sends for `seconds` of the board, set up as the driver sets it up."""
    clock = FakeClock(0)
    device = Lpm01aDevice(board(seconds)[0], clock)
    setup = ("htc", "volt 3300m", "freq 10k", "acqtime inf", "output current", "format ascii_dec", "trigsrc sw",
             "eventsrc d7 fal", "pwr on", "start")  # fmt: skip
    device.receive("".join(f"{c}\n" for c in setup).encode())
    clock.advance(round(seconds * 1e6))
    return device.collect()


def per_line(data: bytes, size: int) -> tuple[int, int]:
    """The driver's decoding before batches: each read's whole lines, one line at a time."""
    rest, samples, stamps = b"", 0, 0
    for k in range(0, len(data), size):
        buf = rest + data[k : k + size]
        whole = buf.rfind(b"\n") + 1
        values, found = parse_lines(buf[:whole])
        rest, samples, stamps = buf[whole:], samples + len(values), stamps + len(found)
    return samples, stamps


def lpm01a_main(args: argparse.Namespace) -> None:
    data = lpm01a_stream(args.seconds)
    samples, stamps = per_line(data, len(data))
    print(f"one LPM01A at 10 kHz, {args.seconds:g} s ({samples:,} samples, {stamps} timestamps, {len(data):,} B), "
          f"best of {args.repeat}")  # fmt: skip

    def vectorised(size: int) -> None:
        decoder = AsciiDecoder()
        found = sum(len(decoder.feed(data[k : k + size])[0]) for k in range(0, len(data), size))
        assert found == samples

    nothing = lambda: None  # noqa: E731
    for size in args.reads:
        ways = {"decode (AsciiDecoder)": best((nothing, lambda _: vectorised(size)), args.repeat),
                "per line (before)": best((nothing, lambda _: per_line(data, size)), args.repeat)}  # fmt: skip
        parts = ", ".join(f"{name} {s / samples * 1e9:.0f} ns" for name, s in ways.items())
        cores = ways["decode (AsciiDecoder)"] / samples * 8 * 10_000
        print(f"  reads of {size:>6} B: {parts} per sample; decode for 8 meters x 10,000/s: {cores:.4f} of a core")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--meter", choices=("ppk2", "lpm01a"), default="ppk2")
    parser.add_argument("--seconds", type=float, default=4.0, help="of one meter's stream")
    parser.add_argument("--reads", type=int, nargs="+", help="bytes per read (default 4020 20000; lpm01a 900 4500)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.meter == "lpm01a":
        args.reads = args.reads or [900, 4500]
        lpm01a_main(args)
        return
    args.reads = args.reads or [4020, 20000]
    data, spans = stream(args.seconds)
    print(f"one PPK2, {args.seconds:g} s ({len(data) // 4:,} samples, {len(spans)} inferences), best of {args.repeat}")
    for size in args.reads:
        per = measure(data, spans, size, args.repeat)
        parts = ", ".join(f"{name} {s * 1e9:.0f} ns" for name, s in per.items())
        total = per["decode"] + per["session"]
        print(f"  reads of {size:>6} B: {parts} per sample; decode + session {total * 1e9:.0f} ns = "
              f"{total * METERS * RATE:.3f} of a core for {METERS} meters x {RATE:,}/s")


if __name__ == "__main__":
    main()
