"""A replay resolves output labels where it folds events, as the manager's ingest does."""

import hashlib

from fleet.models.bundled import bundled_model
from fleet.models.manifest import load_manifest_for
from fleet.telemetry.events import SlotView, StateEvent
from fleet.telemetry.recording import RecordingWriter, open_recording
from fleet.telemetry.replay import ReplaySource
from tests.support.events import result

async def test_a_replay_gives_views_the_labels_of_the_model_the_slots_name(tmp_path):
    gesture = hashlib.sha256(bundled_model("gesture").read_bytes()).hexdigest()
    labels = tuple(load_manifest_for(bundled_model("gesture")).labels)
    active = SlotView(slot=0, state="active", name="gesture", version="1.0.0", sha256=gesture)
    unknown = result(2_000, 2).model_copy(update={"model": "0badf00d"})
    events = [
        StateEvent(board="b", uid="01", host_time=1.0, state="online", port="/dev/x", active=active),
        result(1_000, 1, values=(0.1, 0.2, 0.6, 0.1)).model_copy(update={"model": gesture[:8]}),
        unknown,
    ]
    path = tmp_path / "r.fleetrec"
    writer = await RecordingWriter.create(path)
    for event in events:
        writer.write(event)
    await writer.close()
    source = ReplaySource(open_recording(path), speed=None)
    await source.run()
    # The model the slots name has its labels; one no slot names is not remembered (INFO may come).
    assert source.boards["01"].model_labels == {gesture[:8]: labels}
