"""The inference schedule alone: when inferences are due and the busy time they cost."""

from fleet.sim.scheduling import InferenceSchedule


def running(latency_us: int = 1000, now_us: int = 0) -> InferenceSchedule:
    schedule = InferenceSchedule(now_us)
    schedule.latency_us, schedule.results = latency_us, True
    schedule.start(now_us)
    return schedule


def test_nothing_is_due_without_a_model_or_without_results():
    schedule = InferenceSchedule(0)
    schedule.results = True
    assert not schedule.active and schedule.busy_at(5000) == 0
    schedule.latency_us, schedule.results = 1000, False
    assert not schedule.active and schedule.busy_at(5000) == 0


def test_completed_inferences_follow_the_slower_of_latency_and_result_interval():
    schedule = running(latency_us=1000)
    assert schedule.finish_us() == 1000
    assert schedule.complete(1000, result_interval_ms=0) == (0, 1000)
    assert schedule.complete(2000, result_interval_ms=5) == (1000, 2000)
    assert schedule.finish_us() == 6000 + 1000  # next starts one 5 ms interval after the last began
    assert (schedule.count, schedule.busy_us) == (2, 2000)


def test_a_cut_inference_keeps_the_time_it_ran_and_busy_time_never_runs_backwards():
    schedule = running(latency_us=1000)
    assert schedule.busy_at(400) == 400
    assert schedule.cut(400) == (0, 400)
    assert schedule.busy_us == 400 and schedule.start_us == 400
    assert schedule.cut(400) is None  # nothing ran since
    schedule.results = False
    assert schedule.busy_at(10_000) == 400


def test_after_waiting_on_the_serial_port_the_next_inference_starts_when_it_was_written():
    schedule = running(latency_us=1000)
    schedule.tx_blocked = True
    schedule.complete(3500, result_interval_ms=0)
    assert schedule.start_us == 3500 and not schedule.tx_blocked
