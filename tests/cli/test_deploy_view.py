"""How `fleet deploy` prints when its output is piped: one line per step, upload progress
every few seconds."""

from __future__ import annotations

import io

from fleet.cli.deploy_view import DeployView
from fleet.deploy.events import DeployEvent

T0 = 1_800_000_000.0


def plain() -> tuple[DeployView, io.StringIO]:
    out = io.StringIO()  # not a TTY: plain lines
    view = DeployView(json_lines=False, stream=out)
    view.emit(DeployEvent(event="plan", boards=["b0"], strategy="all", model="m", version="1", sha256="ab" * 32,
                          total=100_000, time=T0))  # fmt: skip
    return view, out


def uploading(at: float, done: int) -> DeployEvent:
    return DeployEvent(event="progress", board="b0", phase="uploading", bytes=done, total=100_000, rate=10_240.0,
                       eta=(100_000 - done) / 10_240, retransmits=2, time=T0 + at)  # fmt: skip


def test_piped_output_shows_upload_progress_every_few_seconds():
    view, out = plain()
    for tenth in range(0, 100):  # ten seconds of progress events, four a second and more
        view.emit(uploading(tenth / 10, tenth * 1000))
    view.emit(uploading(10.0, 100_000))
    lines = [line for line in out.getvalue().splitlines() if "uploading" in line]
    assert 4 <= len(lines) <= 7, lines  # about every 2 s, and the last one
    assert lines[0] == "b0: uploading 0 of 100000 B (0%), 10.0 KiB/s, ETA 9.8 s, resent 2"
    assert lines[-1].startswith("b0: uploading 100000 of 100000 B (100%)")



def test_an_encoded_upload_shows_wire_bytes_and_the_effective_rate():
    view, out = plain()
    view.emit(DeployEvent(event="progress", board="b0", phase="uploading", bytes=100_000, total=100_000,
                          rate=14_336.0, wire_bytes=76_700, encoding="deflate", time=T0 + 7))  # fmt: skip
    (line,) = [line for line in out.getvalue().splitlines() if "uploading" in line]
    assert line == "b0: uploading 100000 of 100000 B (100%), 14.0 KiB/s effective, 76700 B on the wire (deflate)"
