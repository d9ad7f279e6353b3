"""Recordings: round trip, no silent overwrite or truncation, clear errors for bad files."""

import asyncio
import gzip
import json
import re
import shutil

import pytest

from fleet.cli.main import main
from fleet.errors import RecordingCorrupt, RecordingDamaged, RecordingError, RecordingExists, RecordingTruncated
from fleet.telemetry.events import LinkEvent, LogEvent, StateEvent
from fleet.telemetry import recording
from fleet.telemetry.recording import RecordingWriter, open_recording
from tests.closed_stdout import run_with_closed_stdout
from tests.support.events import power, result


def _events():
    return [
        StateEvent(board="b", uid="01", host_time=1.0, state="online", port="/dev/pts/3", profile="nano33ble"),
        result(1_000, 1, values=(0.25, 0.75), label="wave"),
        power(2_000, 17, mw=6.5),
        LogEvent(board="b", uid="01", host_time=1.5, device_time_us=3_000, level=2, text="héllo"),
        LinkEvent(board="b", uid="01", host_time=2.0, frames_in=10, bad_crc=1),
        result(4_000, 2, values=(float("nan"), float("inf"))),
    ]


async def test_round_trip_reproduces_every_event(tmp_path):
    path = tmp_path / "s.fleetrec"
    boards = [_events()[0]]
    writer = await RecordingWriter.create(path, boards)
    events = _events()
    for e in events:
        writer.write(e)
    await writer.close()
    rec = open_recording(path)
    assert rec.header.format == "fleet-telemetry" and rec.header.version == 1
    assert rec.header.boards == boards
    back = list(rec.events())
    assert [e.model_dump_json() for e in back] == [e.model_dump_json() for e in events]
    assert back[:5] == events[:5]
    assert rec.end is not None and rec.end.events == len(events) and rec.end.dropped == 0


async def test_refuses_to_overwrite_unless_forced(tmp_path):
    path = tmp_path / "s.fleetrec"
    path.write_bytes(b"precious")
    with pytest.raises(RecordingExists, match="exists already") as info:
        await RecordingWriter.create(path)
    assert "--force" in info.value.hint
    assert path.read_bytes() == b"precious"
    writer = await RecordingWriter.create(path, force=True)
    await writer.close()
    assert list(open_recording(path).events()) == []


async def test_a_killed_writer_leaves_every_flushed_event_readable(tmp_path):
    path = tmp_path / "s.fleetrec"
    writer = await RecordingWriter.create(path)
    for e in _events()[:3]:
        writer.write(e)
    await writer.flush()  # what the periodic flush does
    snapshot = tmp_path / "killed.fleetrec"
    shutil.copy(path, snapshot)  # the file as a crash would leave it
    await writer.close()
    rec = open_recording(snapshot)
    got = []
    with pytest.raises(RecordingTruncated, match="after 3 events .the writer was killed") as info:
        for e in rec.events():
            got.append(e)
    assert info.value.events == 3
    assert got == _events()[:3]


async def test_a_cut_file_reports_mid_record(tmp_path):
    path = tmp_path / "s.fleetrec"
    raw = b'{"format":"fleet-telemetry","version":1,"fleet_version":"x","started":0,"boards":[]}\n'
    raw += _events()[1].model_dump_json().encode() + b"\n" + _events()[2].model_dump_json().encode()[:20]
    path.write_bytes(gzip.compress(raw)[:-8])  # no gzip trailer, a half line at the end
    with pytest.raises(RecordingTruncated, match="ends mid-record after 1 events"):
        list(open_recording(path).events())


def _readable_so_far(path) -> list:
    """The events of a recording whose writer is still running (so it has no closing record yet)."""
    seen = []
    with pytest.raises(RecordingTruncated):
        seen.extend(open_recording(path).events())
    return seen


async def test_the_flush_loop_writes_without_being_asked(tmp_path):
    import asyncio

    path = tmp_path / "s.fleetrec"
    writer = await RecordingWriter.create(path, flush_interval_s=0.01)
    event = _events()[1]
    writer.write(event)
    # Waits on the file, not on a guessed time: nothing but the flush loop writes it here.
    async with asyncio.timeout(10):
        while not (seen := _readable_so_far(path)):
            await asyncio.sleep(0.01)
    assert seen == [event]
    await writer.close()


def test_not_gzip(tmp_path):
    path = tmp_path / "x.fleetrec"
    path.write_text("hello\n")
    with pytest.raises(RecordingCorrupt, match="not gzip-compressed"):
        open_recording(path)


def test_missing_file(tmp_path):
    with pytest.raises(RecordingError, match="no such recording"):
        open_recording(tmp_path / "nope")


def test_empty_gzip(tmp_path):
    path = tmp_path / "x.fleetrec"
    path.write_bytes(gzip.compress(b""))
    with pytest.raises(RecordingCorrupt, match="empty recording"):
        open_recording(path)


@pytest.mark.parametrize(
    ("first_line", "message"),
    [
        (b"not json", "not JSON"),
        (b'{"format": "other"}', "not a fleet telemetry recording"),
        (b'{"format": "fleet-telemetry", "version": 99}', "format version 99"),
        (b'{"format": "fleet-telemetry", "version": 1, "started": "soon"}', "bad recording header"),
    ],
)
def test_wrong_header(tmp_path, first_line, message):
    path = tmp_path / "x.fleetrec"
    path.write_bytes(gzip.compress(first_line + b"\n"))
    with pytest.raises(RecordingCorrupt, match=message):
        open_recording(path)


def test_garbage_line_names_its_line_number(tmp_path):
    path = tmp_path / "x.fleetrec"
    header = json.dumps({"format": "fleet-telemetry", "version": 1, "fleet_version": "x", "started": 0}).encode()
    good = _events()[1].model_dump_json().encode()
    path.write_bytes(gzip.compress(header + b"\n" + good + b'\n{"kind": "result", "board": 3}\n'))
    rec = open_recording(path)
    events = rec.events()
    assert next(events) == _events()[1]
    with pytest.raises(RecordingCorrupt, match="line 3: not a telemetry event"):
        next(events)


def test_damaged_compressed_data(tmp_path):
    path = tmp_path / "x.fleetrec"
    header = json.dumps({"format": "fleet-telemetry", "version": 1, "fleet_version": "x", "started": 0}).encode()
    body = b"".join(_events()[1].model_dump_json().encode() + b"\n" for _ in range(2000))
    data = bytearray(gzip.compress(header + b"\n" + body))
    for i in range(200, 260):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    with pytest.raises(RecordingCorrupt, match="damaged|not a telemetry event"):
        list(open_recording(path).events())


def _recording_bytes(n_events: int, *, level: int = 9) -> bytes:
    header = json.dumps({"format": "fleet-telemetry", "version": 1, "fleet_version": "x", "started": 0}).encode()
    body = b"".join(result(1_000 + i, i, values=(i / n_events, 1 - i / n_events)).model_dump_json().encode() + b"\n"
                    for i in range(n_events))  # fmt: skip
    end = json.dumps({"end": True, "events": n_events, "dropped": 0, "stopped": 1.0}).encode() + b"\n"
    return gzip.compress(header + b"\n" + body + end, compresslevel=level)


def _damaged_trailer(path, n_events: int) -> bytes:
    data = bytearray(_recording_bytes(n_events))
    data[-6] ^= 0xFF  # the CRC-32 of the gzip trailer
    path.write_bytes(bytes(data))
    return bytes(data)


def test_a_damaged_gzip_trailer_keeps_every_event_and_says_where(tmp_path):
    path = tmp_path / "x.fleetrec"
    data = _damaged_trailer(path, 1247)
    rec = open_recording(path)
    got = []
    with pytest.raises(RecordingDamaged, match=r"damaged at byte \d+ of \d+ .* after 1247 events") as info:
        for e in rec.events():
            got.append(e)
    assert len(got) == 1247 and got[-1].inference_count == 1246
    assert info.value.events == 1247 and len(data) - 8 <= info.value.offset < len(data) - 4
    assert "checksum" in str(info.value)


def test_damage_mid_stream_keeps_every_event_before_it(tmp_path, monkeypatch):
    monkeypatch.setattr(recording, "_READ_CHUNK", 16 * 1024)  # a small file spans a few read chunks
    path = tmp_path / "x.fleetrec"
    data = bytearray(_recording_bytes(3_000, level=1))
    at = 2 * 16 * 1024 + 7_000
    assert len(data) > at + 4 * 1024  # damage well inside the third read chunk
    data[at : at + 4] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(data))
    got = []
    with pytest.raises(RecordingCorrupt) as info:
        for e in open_recording(path).events():
            got.append(e)
    # every event is good up to the damage (a flipped literal may garble a few lines
    # before zlib notices; those are refused, never passed on)
    assert [e.inference_count for e in got] == list(range(len(got)))
    assert len(got) > 0.9 * 3_000 * at / len(data)
    if isinstance(info.value, RecordingDamaged):
        assert at <= info.value.offset < at + 4 * 1024


def test_data_after_the_end_of_the_stream_is_not_ignored(tmp_path):
    path = tmp_path / "x.fleetrec"
    path.write_bytes(_recording_bytes(3) + b"more")
    rec = open_recording(path)
    with pytest.raises(RecordingDamaged, match="after 3 events"):
        list(rec.events())


@pytest.mark.parametrize("json_lines", [True, False])
def test_replay_of_a_damaged_recording_plays_what_is_intact_and_says_where(tmp_path, capsys, json_lines):
    path = tmp_path / "x.fleetrec"
    _damaged_trailer(path, 1247)
    code = main(["replay", "--fast", *(["--json"] if json_lines else []), str(path)])
    out, err = capsys.readouterr()
    assert code == 1
    assert re.search(r"damaged at byte \d+ of \d+ \(the gzip checksum does not match the data\).* after 1247 events", err)
    assert "may be altered" in err  # the events decoded, but nothing vouches for them
    if json_lines:
        assert [json.loads(line)["inference_count"] for line in out.splitlines()] == list(range(1247))
    else:
        assert re.search(r"^b +\S+ .*#0 \(", out, re.M)  # the final table, as of the last event


def test_replay_stops_quietly_when_its_output_is_closed(tmp_path):
    # `fleet replay --json --fast big | head -1`: the view's queue fills, and replay would
    # wait for it forever; it must stop as a closed pipe stops other tools.
    path = tmp_path / "big.fleetrec"
    path.write_bytes(_recording_bytes(10_000, level=1))
    assert run_with_closed_stdout(["replay", "--json", "--fast", str(path)]) == (141, "")


async def test_a_close_that_is_cancelled_ends_cancelled_and_still_finishes_the_file(tmp_path):
    """Before: the close swallowed its own cancellation (Ctrl-C while stopping ran on)."""
    path = tmp_path / "s.fleetrec"
    writer = await RecordingWriter.create(path, [_events()[0]])
    for e in _events():
        writer.write(e)
    closing = asyncio.create_task(writer.close())
    await asyncio.sleep(0)  # the close is under way
    closing.cancel()
    await asyncio.wait({closing})
    assert closing.cancelled()
    writer.write(_events()[1])  # closed: dropped, not written after the trailer
    await writer.close()  # waits for the finishing the cancelled close started
    rec = open_recording(path)
    assert len(list(rec.events())) == len(_events())
    assert rec.end is not None and rec.end.events == len(_events()) and rec.end.dropped == 1


async def test_a_flush_stopped_mid_write_holds_the_file_until_its_write_is_done(tmp_path, monkeypatch):
    """Before: close() cancelled the flusher while its thread was writing; the lock was let
    go at once and close's trailer went into the gzip stream alongside that write."""
    import threading

    path = tmp_path / "s.fleetrec"
    writer = await RecordingWriter.create(path, flush_interval_s=0.0)
    release, started, writes = threading.Event(), asyncio.Event(), []
    real_write, loop = RecordingWriter._write_sync, asyncio.get_running_loop()

    def slow_write(self, data):  # noqa: ANN001, ANN202
        writes.append(data)
        if len(writes) == 1:
            loop.call_soon_threadsafe(started.set)
            release.wait()  # a slow disk: the first write takes until the test lets it go
        real_write(self, data)

    monkeypatch.setattr(RecordingWriter, "_write_sync", slow_write)
    writer.write(_events()[1])
    await started.wait()  # the flusher's thread is in the first write
    closing = asyncio.create_task(writer.close())
    try:
        for _ in range(20):  # close cancels the flusher; it must not end before its write has
            await asyncio.sleep(0)
            assert not writer._flusher.done() and len(writes) == 1
    finally:
        release.set()  # never leave the thread waiting
    await closing
    assert len(writes) == 2 and writer._flusher.cancelled()
    rec = open_recording(path)
    assert list(rec.events()) == [_events()[1]] and rec.end is not None and rec.end.events == 1
