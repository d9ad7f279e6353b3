"""The golden vectors are the contract with the C firmware: the encoder must produce them
byte for byte, the decoder must read them back, and invalid ones must fail as stated."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import fleet.errors
from fleet.protocol import Error, FrameDecoder, decode_frame, decode_message, encode_error, encode_message
from fleet.protocol.fields import from_fields, message_class, to_fields

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = json.loads((ROOT / "tests" / "golden" / "frames.json").read_text())
VALID = GOLDEN["frames"]
INVALID = GOLDEN["invalid"]


def test_every_message_class_has_a_golden_frame():
    from fleet.protocol import messages

    classes = {e["class"] for e in VALID}
    defined = {c.__name__ for c in (*messages.REQUESTS.values(), *messages.RESPONSES.values(), *messages.EVENTS.values())}
    assert defined | {"Error"} <= classes


@pytest.mark.parametrize("entry", VALID, ids=lambda e: e["name"])
def test_encoder_produces_golden_bytes(entry):
    msg = from_fields(message_class(entry["class"]), entry["fields"])
    if isinstance(msg, Error):
        wire = encode_error(msg, entry["type"], entry["seq"])
    else:
        wire = encode_message(msg, entry["seq"])
    assert wire.hex() == entry["hex"]


@pytest.mark.parametrize("entry", VALID, ids=lambda e: e["name"])
def test_decoder_reads_golden_bytes(entry):
    (frame,) = FrameDecoder(max_payload=1024).feed(bytes.fromhex(entry["hex"]))
    assert (frame.header.type, frame.header.seq, frame.header.flags) == (entry["type"], entry["seq"], entry["flags"])
    msg = decode_message(frame)
    assert type(msg).__name__ == entry["class"]
    assert to_fields(msg) == entry["fields"]


@pytest.mark.parametrize("entry", INVALID, ids=lambda e: e["name"])
def test_invalid_frames_fail_with_the_stated_error(entry):
    expected = getattr(fleet.errors, entry["error"])
    raw = bytes.fromhex(entry["hex"])
    assert raw.endswith(b"\x00")
    with pytest.raises(expected):
        decode_message(decode_frame(raw[:-1]))


def test_stream_decoder_counts_invalid_frames_and_keeps_going():
    decoder = FrameDecoder()
    stream = b"".join(bytes.fromhex(e["hex"]) for e in INVALID) + bytes.fromhex(VALID[0]["hex"])
    frames = decoder.feed(stream)
    framing_errors = [e for e in INVALID if e["error"] in ("BadCRC", "MalformedFrame")]
    assert decoder.stats.errors == len(framing_errors)
    assert decoder.stats.frames == len(INVALID) - len(framing_errors) + 1
    assert frames[-1].header.seq == VALID[0]["seq"]


def test_golden_file_matches_the_generator():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "make_golden.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
