"""A meter's energy timeline (fleet.meters.energy.EnergyTimeline): energy between instants,
and the window of a given length that holds the most energy near a predicted one."""

from __future__ import annotations

from tests.support.sim import require_numpy

require_numpy()

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fleet.meters.energy import EnergyTimeline  # noqa: E402


def timeline(current_a: np.ndarray, period_us: float = 100.0, cut: int = 7) -> EnergyTimeline:
    """Samples from t = 0 at 1 V, fed in pieces of `cut` samples."""
    t = EnergyTimeline()
    for k in range(0, len(current_a), cut):
        t.add(k * period_us, period_us, current_a[k : k + cut], 1.0)
    return t


def test_energy_between_any_two_instants_spreads_each_sample_evenly():
    t = timeline(np.array([1.0, 2.0, 3.0, 4.0]))  # A at 1 V over 100 µs: 100, 200, 300, 400 µJ
    assert t.energy(0.0, 400.0) == pytest.approx(1000.0)
    assert t.energy(50.0, 250.0) == pytest.approx(50.0 + 200.0 + 150.0)
    assert t.energy(-1.0, 100.0) is None and t.energy(0.0, 401.0) is None


def test_no_energy_is_given_across_samples_lost():
    t = EnergyTimeline()
    t.add(0.0, 100.0, np.ones(10), 1.0)  # 0..1000 µs
    t.add(1000.0, 100.0, np.ones(10), 1.0)  # contiguous: 1000..2000
    t.add(2500.0, 100.0, np.ones(10), 1.0)  # five samples lost before it: 2500..3500
    assert t.energy(500.0, 1500.0) == pytest.approx(1000.0)  # across two contiguous runs
    assert t.energy(2600.0, 3400.0) == pytest.approx(800.0)
    assert t.energy(1500.0, 2600.0) is None  # across the gap
    assert t.energy(2100.0, 2400.0) is None  # inside it
    assert t.energy(2100.0, 2600.0) is None  # from inside it
    assert t.energy(1500.0, 2200.0) is None  # into it


def test_the_heaviest_window_is_on_the_pulse_within_reach():
    current = np.full(100, 0.002)
    current[40:45] = 0.006  # a 500 µs pulse from 4000 µs
    current[80:90] = 0.02  # a larger one far away: out of reach
    t = timeline(current)
    assert t.heaviest(3600.0, 4100.0, 550.0) == pytest.approx((4000.0, 4500.0))  # 400 µs early: moved
    assert t.heaviest(4300.0, 4800.0, 550.0) == pytest.approx((4000.0, 4500.0))  # 300 µs late
    assert t.heaviest(3300.0, 3800.0, 300.0) == pytest.approx((3600.0, 4100.0))  # toward it, by the reach only
    assert t.heaviest(3000.0, 3500.0, 200.0) == (3000.0, 3500.0)  # nothing in reach: as given
    assert t.heaviest(3600.0, 4100.0, 0.0) == (3600.0, 4100.0)  # no reach: as given
    # A window longer than the pulse: every placement covering it holds the same; the least moved wins.
    assert t.heaviest(3900.0, 4700.0, 550.0) == pytest.approx((3900.0, 4700.0))
    assert t.heaviest(3500.0, 4300.0, 550.0) == pytest.approx((3700.0, 4500.0))
    # Reach beyond the samples held: only the placements held are weighed.
    assert t.heaviest(100.0, 600.0, 550.0)[0] >= 0.0
