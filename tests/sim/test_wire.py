"""The line model: pacing arithmetic, seeded noise, and the --faults text form."""

from __future__ import annotations

import random

import pytest

from fleet.errors import ConfigError
from fleet.sim.faults import FaultSpec
from fleet.sim.wire import LineNoise, LinePacer


def test_pacer_serialises_at_baud_over_10():
    pacer = LinePacer(115_200)
    assert pacer.finish(11_520, 10.0) == pytest.approx(11.0)
    assert pacer.finish(1152, 10.5) == pytest.approx(11.1)  # queued behind the first batch
    assert pacer.backlog(11.0) == 1152
    assert pacer.finish(10, 20.0) == pytest.approx(20.0 + 10 / 11_520)  # idle line: starts at once


def test_unpaced_line():
    pacer = LinePacer(None)
    assert pacer.finish(10**6, 3.0) == 3.0 and pacer.backlog(3.0) == 0


def test_noise_is_reproducible_and_at_the_asked_rates():
    data = bytes(range(256)) * 400  # 102400 bytes
    a = LineNoise(1e-3, 1e-3, random.Random("s")).apply(data)
    b = LineNoise(1e-3, 1e-3, random.Random("s")).apply(data)
    c = LineNoise(1e-3, 1e-3, random.Random("t")).apply(data)
    assert a == b and a != c
    noise = LineNoise(1e-3, 0, random.Random(1))
    out = noise.apply(data)
    flipped = sum(bin(x ^ y).count("1") for x, y in zip(data, out))
    assert flipped == noise.flipped and 600 < flipped < 1050  # expectation 819
    noise = LineNoise(0, 1e-2, random.Random(2))
    assert len(data) - len(noise.apply(data)) == noise.dropped and 850 < noise.dropped < 1200


def test_noise_is_the_same_however_the_stream_is_split():
    data = bytes(5000)
    whole = LineNoise(1e-3, 1e-3, random.Random(9)).apply(data)
    split = LineNoise(1e-3, 1e-3, random.Random(9))
    parts = b"".join(split.apply(data[i : i + 7]) for i in range(0, len(data), 7))
    assert parts == whole


def test_clean_line_passes_bytes_untouched():
    data = b"\x00\x01abc"
    assert LineNoise(0, 0, random.Random()).apply(data) is data


def test_fault_spec_parse():
    spec = FaultSpec.parse("ber=1e-5, drop=1e-4,disconnect_every=30,reboot_every=60,reconnect_after=never")
    assert spec == FaultSpec(ber=1e-5, drop=1e-4, disconnect_every=30, reconnect_after=None, reboot_every=60)
    assert FaultSpec.parse("") == FaultSpec()
    assert FaultSpec.parse("reconnect_after=0.5").reconnect_after == 0.5


@pytest.mark.parametrize("text", ["ber", "bogus=1", "ber=x", "ber=2", "drop=-1", "reboot_every=-3"])
def test_fault_spec_errors_name_the_problem(text):
    with pytest.raises(ConfigError):
        FaultSpec.parse(text)
