"""Every power figure carries its source: modelled, sensor, or a named meter."""

from __future__ import annotations

import pydantic
import pytest

from fleet.bench.compare import compare
from fleet.bench.report import BenchReport, BenchSettings, BoardBench, ModelRef
from fleet.config import parse_config
from fleet.errors import ConfigError
from fleet.protocol import Capability, Info, Power, SlotInfo
from fleet.telemetry.events import EnergyEvent, PowerEvent, parse_event
from fleet.telemetry.ingest import BoardIngest
from fleet.telemetry.labels import ModelCatalog
from fleet.telemetry.power_source import meter_source, source_kind
from fleet.telemetry.stats import LiveStats

from tests.support.events import power, result


def meter_power(mw: float = 6.6, host_time: float = 0.02) -> PowerEvent:
    """A meter's power sample (its own clock and energy)."""
    return PowerEvent(board="b", uid="01", host_time=host_time, device_time_us=5, voltage_mv=3300,
                      current_ua=round(mw / 3.3 * 1000), energy_uj=1, power_mw=mw, source="meter:ppk2 ABC")  # fmt: skip


def metered_collector():  # noqa: ANN201
    """A bench collector of 3 inferences for a board a meter feeds, armed."""
    from fleet.bench.collector import BoardCollector

    collector = BoardCollector("b", "01", "00000000", inferences=3, warmup=0, metered=True)
    collector.arm()
    return collector


def energy(t_us: int, count: int, uj: float, source: str = "meter:ppk2 ABC") -> EnergyEvent:
    return EnergyEvent(board="b", uid="01", host_time=t_us / 1e6, device_time_us=t_us, inference_count=count,
                       energy_uj=uj, duration_us=1000.0, power_mw=uj, method="marker", source=source)  # fmt: skip


def test_source_kinds():
    assert source_kind("modelled") == "modelled"
    assert source_kind("sensor") == "sensor"
    assert source_kind(meter_source("ppk2", "C3A1F0E2")) == "meter"
    for bad in ("meter", "meter:ppk2", "meter:PPK2 x", "battery", "meter:ppk2 a b"):
        with pytest.raises(ValueError, match="power source"):
            source_kind(bad)
    with pytest.raises(ConfigError, match="serial"):
        meter_source("ppk2", "has space")


def test_a_board_declaring_power_sensor_labels_its_power_sensor():
    def info(caps: Capability) -> Info:
        return Info(1, 0xFF, 1024, caps, 4096, 1, 1, 0, b"\x01", "posix", "fw", (SlotInfo(), SlotInfo()))

    ingest = BoardIngest("b", "01", ModelCatalog())
    ingest.set_info(info(Capability.POWER | Capability.POWER_SENSOR))
    assert ingest.convert(Power(1000, 3297, 1999, 5)).source == "sensor"
    # After a reset without the sensor (it did not answer at boot), POWER is modelled again.
    ingest.set_info(info(Capability.POWER))
    assert ingest.convert(Power(2000, 3300, 2000, 9)).source == "modelled"


def test_board_power_is_modelled_unless_the_config_says_sensor():
    ingest = BoardIngest("b", "01", ModelCatalog())
    event = ingest.convert(Power(1000, 3300, 3000, 5))
    assert isinstance(event, PowerEvent) and event.source == "modelled"
    assert '"source":"modelled"' in event.model_dump_json()
    config = parse_config('[boards.lab]\nport = "/dev/ttyACM0"\npower = "sensor"\n', path=__import__("pathlib").Path("d.toml"))
    assert config.power_source_for("lab", "ff") == "sensor"
    assert config.power_source_for("other", "ff") == "modelled"
    sensed = BoardIngest("lab", "01", ModelCatalog(), config.power_source_for("lab", "01")).convert(Power(1, 3300, 1, 0))
    assert isinstance(sensed, PowerEvent) and sensed.source == "sensor"


def test_config_refuses_an_unknown_power_kind():
    with pytest.raises(ConfigError, match="power"):
        parse_config('[boards.lab]\nport = "/dev/ttyACM0"\npower = "meter"\n', path=__import__("pathlib").Path("d.toml"))


def test_old_recordings_without_a_source_read_as_modelled_and_bad_sources_are_refused():
    old = '{"kind":"power","board":"b","uid":"01","host_time":1.0,"device_time_us":1,"voltage_mv":3300,' \
          '"current_ua":1,"energy_uj":0,"power_mw":0.0033}'
    assert parse_event(old).source == "modelled"
    with pytest.raises(pydantic.ValidationError, match="power source"):
        parse_event(old[:-1] + ',"source":"guess"}')
    with pytest.raises(pydantic.ValidationError, match="from a meter"):
        energy(1, 1, 1.0, source="modelled")
    assert parse_event(energy(5, 2, 3.5).model_dump_json()) == energy(5, 2, 3.5)


def test_live_stats_prefer_the_meter_and_keep_the_board_figures_apart():
    stats = LiveStats()
    for i in range(1, 6):
        stats.on_result(result(i * 10_000, i))
        stats.on_power(power(i * 10_000, i * 100, mw=10.0))
    assert stats.power_source == "modelled"
    board_energy = stats.energy_per_inference_uj
    assert board_energy == pytest.approx(100.0)
    stats.on_power(meter_power(12.0, 0.05))
    stats.on_energy(energy(40_000, 4, 30.0))
    stats.on_energy(energy(50_000, 5, 50.0))
    assert stats.power_mw == 12.0 and stats.power_source == "meter:ppk2 ABC"
    assert stats.board_power_mw == 10.0
    assert stats.energy_per_inference_uj == pytest.approx(40.0)
    assert stats.board_energy_per_inference_uj == pytest.approx(board_energy)  # the meter's clock did not enter it


def _report(source: str | None) -> BenchReport:
    board = BoardBench(board="b", uid="01", status="ok", power_mw=10.0, energy_per_inference_uj=20.0,
                       latency_median_us=100.0, energy_source=source)  # fmt: skip
    return BenchReport(fleet_version="0", started=0, duration_s=1,
                       model=ModelRef(path="m", name="m", version="1", sha256="00", size_bytes=1, arena_bytes=1),
                       settings=BenchSettings(inferences=1, warmup=0, power_interval_ms=10, target="all"),
                       boards=[board])  # fmt: skip


def test_bench_does_not_compare_energy_across_source_kinds():
    mixed = compare(_report("meter:ppk2 ABC"), _report("modelled"), "file").ratios[0]
    assert mixed.energy_per_inference is None and mixed.power is None
    assert mixed.note == "energy not compared: meter:ppk2 ABC here, modelled in the baseline"
    assert mixed.latency_median == 1.0  # the rest is still compared
    same = compare(_report("meter:ppk2 ABC"), _report("meter:lpm01a XYZ"), "file").ratios[0]
    assert same.energy_per_inference == 1.0 and same.note is None


def test_bench_takes_a_meters_per_inference_energy_and_keeps_its_samples_out_of_the_board_window():
    from fleet.bench.figures import meter_energy_figures

    collector = metered_collector()
    for i in range(1, 5):
        collector.feed(result(i * 10_000, i))
        collector.feed(power(i * 10_000, i * 100))
        collector.feed(meter_power())
        collector.feed(energy(i * 10_000, i, 10.0 * i))
    assert all(p.source == "modelled" for p in collector.powers)
    figures = meter_energy_figures(collector.results, collector.meter_energies)
    assert figures is not None
    # Done once the meter's figure of the third inference arrived (after its result and POWER).
    assert collector.phase == "done" and len(collector.results) == 3
    assert figures.per_inference_uj == pytest.approx(20.0)  # counts 1..3: 10, 20, 30
    assert figures.min_uj == 10.0 and figures.max_uj == 30.0 and figures.intervals == 3
    assert meter_energy_figures(collector.results[:1], [energy(1, 99, 5.0)]) is None


def test_mqtt_exports_the_source_and_each_inferences_energy():
    from fleet.export.topics import message_for

    power_message = message_for(meter_power(), "fleet")
    assert power_message is not None and power_message.topic == "fleet/b/power"
    assert parse_event(power_message.payload).source == "meter:ppk2 ABC"
    energy_message = message_for(energy(5, 2, 3.5), "fleet")
    assert energy_message is not None and energy_message.topic == "fleet/b/energy" and not energy_message.retain
    assert parse_event(energy_message.payload) == energy(5, 2, 3.5)


def test_the_tui_charts_a_meters_power_alone_once_one_feeds_the_board():
    from fleet.tui.history import BoardHistory

    history = BoardHistory()
    history.add_power(power(10_000, 1, mw=10.0))
    history.add_power(meter_power())
    history.add_power(power(30_000, 2, mw=10.0))  # the board's modelled figure: not charted any more
    assert history.power_source == "meter:ppk2 ABC"
    buckets = history.power_mw.buckets(0.0)
    assert sum(b.count for b in buckets) == 2 and min(b.min for b in buckets) == 6.6


def test_a_board_whose_meter_failed_is_measured_by_its_own_power_again():
    collector = metered_collector()
    for i in range(1, 5):
        collector.feed(result(i * 10_000, i))
        collector.feed(power(i * 10_000, i * 100))
    assert collector.phase == "measuring"  # waiting for the meter's figures
    collector.metered = False  # the meter failed (fleet bench asks MeterSet.feeds at every event)
    collector.feed(power(50_000, 500))
    assert collector.phase == "done"
