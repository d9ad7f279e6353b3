"""The TUI's logic without Textual: feed, history, table model, log store, deploy tracker."""

from __future__ import annotations

from fleet.config import Board, FleetConfig
from fleet.deploy.events import DeployEvent
from fleet.telemetry.events import DeployNotice, LogEvent, StateEvent
from fleet.telemetry.state import BoardState
from fleet.tui.deploy_tracker import DeployTracker
from fleet.tui.feed import Feed
from fleet.tui.history import BoardHistory
from fleet.tui.loglines import LogLine, LogStore
from fleet.tui.table_model import INDEX, matches, rows
from tests.support.events import power, result


class Boards:
    """A source with fixed board states (what a manager or a replay offers)."""

    def __init__(self, *boards: BoardState) -> None:
        self.boards = {b.uid: b for b in boards}

    def subscribe(self, maxsize: int = 4096, name: str = ""):  # noqa: ANN201 - never called here
        raise AssertionError("not used")


def test_history_buckets_samples_and_starts_outputs_over_when_the_model_changes():
    history = BoardHistory()
    for i in range(20):
        history.add_result(result(i * 100_000, i + 1, latency=1000 + i, values=(0.1, 0.9)), ("no", "yes"))
        history.add_power(power(i * 100_000, i * 10, mw=5.0 + i))
    assert set(history.outputs) == {"no", "yes"}
    latency = history.window(history.latency_ms, 8)
    assert len(latency) == 4  # 2 s of samples in 0.5 s buckets
    assert latency[-1].max == 1.019 and latency[0].min == 1.0
    assert history.window(history.power_mw, 2)[-1].max == 24.0
    other = result(3_000_000, 31, values=(0.5,)).model_copy(update={"model": "11111111"})
    history.add_result(other)
    assert set(history.outputs) == {"#0"}


def test_a_label_learned_from_results_names_its_series_from_then_on():
    # Results name their top class even when this host has no labels for the model (a
    # replay of another host's recording): the "#1" series becomes "yes" and keeps growing.
    history = BoardHistory()
    for i in range(10):
        history.add_result(result(i * 100_000, i + 1, values=(0.1, 0.9), label="yes"))
    assert set(history.outputs) == {"#0", "yes"}
    assert history.outputs["yes"].samples == 10 and history.outputs["#0"].samples == 10


def test_feed_reports_state_changes_logs_and_deploys_but_not_results():
    board = BoardState("b", "01", "/dev/x")
    feed = Feed(Boards(board))
    state = StateEvent(board="b", uid="01", host_time=1.0, state="online", port="/dev/x")
    changes = feed.ingest([state, result(1, 1), LogEvent(board="b", uid="01", host_time=2.0, device_time_us=2,
                                                             level=2, text="hot")])  # fmt: skip
    assert changes.boards == {"01"}
    assert [line.text for line in changes.logs] == ["online on /dev/x", "hot"]
    assert feed.histories.get("01").recent[-1].inference_count == 1
    again = feed.ingest([state.model_copy(update={"host_time": 3.0})])
    assert not again.boards and not again.logs  # the same state again is not news
    deploy = DeployEvent(event="rolled_back", board="b", uid="01", reason="health check failed")
    changes = feed.ingest([DeployNotice(board="b", uid="01", host_time=4.0, event=deploy)])
    assert changes.deploys and changes.logs[0].level == 2 and "health check failed" in changes.logs[0].text


def test_a_uid_conflict_is_an_error_line_naming_both_ports():
    board = BoardState("b", "01", "/dev/x")
    feed = Feed(Boards(board))
    why = "uid 01 answers on 2 ports at once (/dev/x, /dev/y): two boards claim one identity"
    changes = feed.ingest([StateEvent(board="b", uid="01", host_time=1.0, state="conflict", port="/dev/x", reason=why)])
    (line,) = changes.logs
    assert (line.level_name, line.text) == (LogLine(0, "", 3, "").level_name, f"conflict on /dev/x: {why}")


def test_filter_matches_tags_groups_and_text_and_rows_sort():
    a = BoardState("lab-nano", "aa", "/dev/ttyACM0", profile="nano33ble", tags=("audio",))
    b = BoardState("pico-2", "bb", "/dev/ttyACM1", profile="pico")
    config = FleetConfig(boards={"pico-2": Board(port="/dev/ttyACM1")}, groups={"bench-a": ("pico-2",)})
    assert matches(a, ["audio"], config) and not matches(b, ["audio"], config)
    assert matches(b, ["bench-a"], config) and not matches(a, ["bench-a"], config)
    assert matches(a, ["NANO"], config) and matches(b, ["acm1"], config)
    assert matches(a, [], config)
    boards = {x.uid: x for x in (a, b)}
    assert [cells[INDEX["name"]] for _, cells in rows(boards, sort="profile")] == ["lab-nano", "pico-2"]
    assert [uid for uid, _ in rows(boards, sort="name", reverse=True)] == ["bb", "aa"]
    assert [uid for uid, _ in rows(boards, words=["audio", "bench-a"], config=config)] == ["aa", "bb"]


def test_log_store_filters_by_level_and_board():
    store = LogStore()
    for line in (LogLine(1, "a", 0, "debug"), LogLine(2, "b", 2, "warn"), LogLine(3, "fleet", 1, "deploy")):
        store.add(line)
    assert store.next_level() == "INFO"
    assert [line.text for line in store.visible()] == ["warn", "deploy"]
    store.board = "a"
    assert [line.text for line in store.visible()] == ["deploy"]  # fleet-wide lines stay


def test_deploy_tracker_follows_a_canary_with_a_rollback():
    tracker = DeployTracker()
    tracker.apply(DeployEvent(event="plan", boards=["esp", "pico"], strategy="canary", model="gesture",
                              version="1.0.0", total=100))  # fmt: skip
    assert tracker.active and set(tracker.boards) == {"esp", "pico"}
    tracker.apply(DeployEvent(event="progress", board="esp", phase="uploading", bytes=40, total=100))
    assert tracker.boards["esp"].sent == 40 and tracker.boards["esp"].phase == "uploading"
    tracker.apply(DeployEvent(event="confirmed", board="esp", phase="done"))
    tracker.apply(DeployEvent(event="rolled_back", board="pico", phase="done", reason="too slow"))
    tracker.apply(DeployEvent(event="done", summary={"confirmed": 1, "rolled_back": 1}))
    assert not tracker.active
    assert tracker.boards["pico"].outcome == "rolled_back" and tracker.boards["pico"].reason == "too slow"
