"""`fleet monitor --json` into a pipe nobody reads: SIGTERM still stops it, its recording is
finished, and it says that output was lost (fleet/cli/output_thread.py). Before, the full
pipe blocked the event loop in a write and the monitor never stopped."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.support.sim import require_sim

require_sim()  # runs virtual boards

from fleet.telemetry.recording import open_recording  # noqa: E402
from tests.support.cli import sim_process  # noqa: E402
from tests.support.wait import DEADLINE_S  # noqa: E402

pytestmark = pytest.mark.slow


def _blocked_writing_a_pipe(pid: int) -> bool:
    """Whether a thread of process `pid` waits in the kernel to write to a full pipe (Linux)."""
    tasks = f"/proc/{pid}/task"
    for tid in os.listdir(tasks):
        with contextlib.suppress(OSError), open(f"{tasks}/{tid}/wchan") as wchan:
            if "pipe_write" in wchan.read():
                return True
    return False


def test_sigterm_stops_a_monitor_whose_output_is_not_read(env, tmp_path):
    record = tmp_path / "session.fleetrec"
    with sim_process(env, tmp_path, 2, "--seed", "3"):  # boards boot running the bundled sine model
        read_end, write_end = os.pipe()
        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)  # one page: it fills at once
        proc = subprocess.Popen(
            [sys.executable, "-m", "fleet", "monitor", "--json", "--record", str(record), "--result-interval", "1"],
            stdout=write_end, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
        )  # fmt: skip
        os.close(write_end)
        try:
            deadline = time.monotonic() + DEADLINE_S
            while not _blocked_writing_a_pipe(proc.pid):  # nobody reads: the pipe fills up
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "the monitor never waited on its full output pipe"
                time.sleep(0.1)
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)  # before: never (the loop was blocked in a write)
            err = proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(read_end)
    assert code == 1, err
    assert "standard output is not being read" in err and "recorded" in err
    recording = open_recording(record)
    events = list(recording.events())  # raises if the recording was not finished
    assert sum(e.kind == "result" for e in events) > 0
