"""Write tests/golden/frames.json: named protocol v1 frames -> hex, shared by the Python
and C test suites.

    python tools/make_golden.py          # rewrite the file
    python tools/make_golden.py --check  # exit 1 if the file differs from what the code encodes

Each valid entry holds the message class, seq, fields and the exact wire bytes (COBS frame
including the trailing 0x00). Invalid entries are byte strings a receiver must drop, with
the error it must report.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path

from cobs import cobs

from fleet.protocol import (
    ENCODING_BLOCKS, NO_SLOT, ActivateAck, ActivateMode, BeginAck, Boot, BootReason, Capability, ChunkAck, CommitAck,
    ConfirmAck, DataAck, Error, ErrorCode, Hello, InferResult, Info, Log, LogLevel, ModelActivate, ModelBegin,
    ModelChunk, ModelCommit, ModelConfirm, ModelData, ModelRollback, ModelStream, MsgType, OutputFormat, Ping, Pong,
    Power, Reboot, RebootAck, RollbackAck, Runtime, RuntimeInfo, SlotInfo, SlotState, Stream, StreamAck, StreamConfig,
    StreamConfigAck, encode_error, encode_frame, encode_message,
)  # fmt: skip
from fleet.protocol.fields import to_fields

OUT = Path(__file__).resolve().parent.parent / "tests" / "golden" / "frames.json"

SHA_A = bytes(range(32))
SHA_B = bytes.fromhex("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
EMPTY = SlotInfo()
ACTIVE_A = SlotInfo(SlotState.ACTIVE, 2704, 2704, SHA_A, "hello_world", "1.0.0")
RECEIVING_B = SlotInfo(SlotState.RECEIVING, 300568, 1016, SHA_B, "person_detect", "2.1")
VALID_A = SlotInfo(SlotState.VALID, 2704, 2704, SHA_A, "hello_world", "1.0.0")
PENDING_B = SlotInfo(SlotState.PENDING, 300568, 300568, SHA_B, "person_detect", "2.1")
ACTIVE_B = SlotInfo(SlotState.ACTIVE, 300568, 300568, SHA_B, "person_detect", "2.1")
ALL_CAPS = Capability.RESUME | Capability.RESULTS | Capability.POWER | Capability.LOG | Capability.REBOOT
MAX_CHUNK = 512 - 4  # the largest chunk a board with the minimum max_payload accepts


def info(active: int, slots: tuple[SlotInfo, SlotInfo], caps: Capability = ALL_CAPS) -> Info:
    return Info(1, active, 1024, caps, 4096, 184320, 393216, 64_000_000, bytes.fromhex("e4b2c1d0a1b2c3d4"),
                "nano33ble", "fleet-fw 0.1.0", slots)  # fmt: skip


# (name, message, seq)
VALID = [
    ("hello", Hello(1, 4096), 1),
    ("info_no_model", info(0xFF, (EMPTY, EMPTY)), 1),
    ("info_active_and_receiving", info(0, (ACTIVE_A, RECEIVING_B)), 2),
    ("info_power_sensor", info(0xFF, (EMPTY, EMPTY), ALL_CAPS | Capability.RUNTIME | Capability.POWER_SENSOR), 3),
    ("ping_empty", Ping(), 3),
    ("ping_zeros", Ping(bytes(16)), 4),
    ("pong_zeros", Pong(0, bytes(16)), 4),
    ("pong_time", Pong(0x0123456789ABCDEF, b"fleet"), 5),
    ("stream_config_all", StreamConfig(Stream.RESULTS | Stream.POWER | Stream.LOG, LogLevel.DEBUG, 20, 10, 3), 6),
    ("stream_config_off", StreamConfig(Stream.NONE, LogLevel.INFO, 0, 0, 0), 7),
    ("stream_config_ack", StreamConfigAck(Stream.RESULTS | Stream.POWER, LogLevel.INFO, 20, 100, 0), 6),
    ("reboot", Reboot(0), 8),
    ("reboot_ack_empty", RebootAck(), 8),
    ("runtime", Runtime(), 20),
    # person_detect's and micro_speech's operators on a CMSIS-NN build, and one custom operator
    ("runtime_info_tflm", RuntimeInfo("tflm 90b983c cmsis-nn", (1, 3, 4, 9, 22, 25), ("SignalWindow", "SignalFft")), 20),
    ("runtime_info_ref", RuntimeInfo("fleet-ref 1", (9,)), 21),
    ("runtime_info_nothing", RuntimeInfo(""), 22),
    ("model_begin", ModelBegin(1, 300568, SHA_B, "person_detect", "2.1"), 9),
    ("model_begin_no_name", ModelBegin(1, 2704, SHA_A), 9),
    ("begin_ack_resume", BeginAck(1, 1016), 9),
    ("model_chunk_small", ModelChunk(0, b"TFL3"), 10),
    ("model_chunk_zeros", ModelChunk(0, bytes(64)), 11),
    ("model_chunk_max", ModelChunk(1016, bytes((i * 7 + 1) % 255 + 1 for i in range(MAX_CHUNK))), 12),
    ("model_chunk_all_bytes", ModelChunk(0x00010000, bytes(range(256))), 13),
    ("chunk_ack", ChunkAck(1524), 12),
    ("model_commit", ModelCommit(1), 14),
    ("commit_ack", CommitAck(1, 93348), 14),
    ("model_activate_test", ModelActivate(1, ActivateMode.TEST), 15),
    ("activate_ack", ActivateAck(1, (ACTIVE_A, PENDING_B)), 15),
    ("model_confirm", ModelConfirm(1), 16),
    ("confirm_ack", ConfirmAck(1, (VALID_A, ACTIVE_B)), 16),
    ("model_rollback_empty", ModelRollback(), 17),
    ("rollback_ack", RollbackAck(0, (ACTIVE_A, SlotInfo(SlotState.VALID, 300568, 300568, SHA_B, "person_detect", "2.1"))), 17),
    # encoded uploads (PROTOCOL.md section 10); their streams are in upload_streams.json
    ("model_stream_delta", ModelStream(ENCODING_BLOCKS, 0, SHA_A), 30),
    ("model_stream_no_base", ModelStream(ENCODING_BLOCKS, NO_SLOT, bytes(32)), 31),
    ("stream_ack", StreamAck(16384), 31),
    ("model_data", ModelData(0, bytes.fromhex("010004f201") + bytes(range(1, 200))), 32),
    ("data_ack", DataAck(1016, 16384), 32),
    ("infer_result_raw", InferResult(1_000_000, 1234, 42, 7, SHA_A[:4], 9, OutputFormat.RAW, 0.0078125, -128, b"\x80\x7f\x00\x10"), 0),
    ("infer_result_topk", InferResult(2_000_000, 98765, 43, 8, SHA_B[:4], 9, OutputFormat.TOPK, 0.00390625, -128, b"\x01\x00\x7f\x00\x00\x80"), 1),
    ("power", Power(1_500_000, 3300, 6000, 29_700), 2),
    ("log_info", Log(1_600_000, LogLevel.INFO, "model 9f86d081 active"), 3),
    ("log_empty", Log(0, LogLevel.ERROR, ""), 4),
    ("boot", Boot(BootReason.POWER_ON, 1), 0),
    ("seq_max", Ping(b"\x00"), 0xFFFF),
]  # fmt: skip

# (name, error, request type, seq)
ERRORS = [
    ("error_hash_mismatch", Error(ErrorCode.HASH_MISMATCH, 0, "sha256 of slot 1 does not match"), MsgType.MODEL_COMMIT, 14),
    ("error_arena_too_small", Error(ErrorCode.ARENA_TOO_SMALL, 145_000, "model needs 145000 B, arena is 131072 B"), MsgType.MODEL_COMMIT, 18),
    ("error_unknown_type_empty_text", Error(ErrorCode.UNKNOWN_TYPE, 0x1F, ""), 0x1F, 19),
    ("error_base_mismatch", Error(ErrorCode.BASE_MISMATCH, 0, "slot 0 holds another model"), MsgType.MODEL_STREAM, 30),
    ("error_decode_failed", Error(ErrorCode.DECODE_FAILED, 16384, "unknown block kind 0x09"), MsgType.MODEL_DATA, 32),
]  # fmt: skip


def _invalid() -> list[dict]:
    """Byte strings a receiver must drop, and why."""
    good = encode_message(Ping(b"abc"), 1)
    body = bytearray(cobs.decode(good[:-1]))

    def frame(raw: bytes) -> str:
        return (cobs.encode(raw) + b"\x00").hex()

    def with_crc(raw: bytes) -> bytes:
        return raw + zlib.crc32(raw).to_bytes(4, "little")

    flipped = bytearray(body)
    flipped[9] ^= 0x01
    long_len = bytearray(body[:-4])
    long_len[6] = 9  # header claims 9 payload bytes, carries 3
    return [
        {"name": "bad_crc", "hex": frame(bytes(flipped)), "error": "BadCRC"},
        {"name": "too_short", "hex": frame(bytes(body[:11])), "error": "MalformedFrame"},
        {"name": "bad_cobs", "hex": "05010200", "error": "MalformedFrame"},
        {"name": "length_mismatch", "hex": frame(with_crc(bytes(long_len))), "error": "MalformedFrame"},
        {"name": "unknown_request_type", "hex": encode_frame(0x1F, 2, 0, b"").hex(), "error": "UnknownMessageType"},
        {"name": "wrong_version", "hex": frame(with_crc(bytes([2, 0x02, 0, 0, 3, 0, 0, 0]))), "error": "UnsupportedVersion"},
        {"name": "payload_too_short", "hex": encode_frame(MsgType.MODEL_COMMIT, 4, 0, b"").hex(), "error": "MalformedMessage"},
        {"name": "payload_too_long", "hex": encode_frame(MsgType.MODEL_COMMIT, 5, 0, b"\x01\x02").hex(), "error": "MalformedMessage"},
        {"name": "runtime_with_payload", "hex": encode_frame(MsgType.RUNTIME, 6, 0, b"\x00").hex(), "error": "MalformedMessage"},
    ]  # fmt: skip


def build() -> dict:
    frames = []
    for name, msg, seq in VALID:
        wire = encode_message(msg, seq)
        frames.append({"name": name, "class": type(msg).__name__, "type": int(msg.TYPE), "seq": seq,
                       "flags": 1 if msg.KIND == 1 else 0, "fields": to_fields(msg), "hex": wire.hex()})  # fmt: skip
    for name, err, request_type, seq in ERRORS:
        wire = encode_error(err, request_type, seq)
        frames.append({"name": name, "class": "Error", "type": int(request_type), "seq": seq, "flags": 3,
                       "fields": to_fields(err), "hex": wire.hex()})  # fmt: skip
    return {
        "protocol_version": 1,
        "comment": "Generated by tools/make_golden.py; hex is the whole wire frame incl. the 0x00 delimiter.",
        "frames": frames,
        "invalid": _invalid(),
    }


def render() -> str:
    return json.dumps(build(), indent=1) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the file on disk")
    args = parser.parse_args()
    text = render()
    if args.check:
        same = OUT.exists() and OUT.read_text() == text
        print("golden vectors up to date" if same else f"{OUT} differs from the encoder's output")
        return 0 if same else 1
    OUT.write_text(text)
    print(f"wrote {OUT} ({len(VALID) + len(ERRORS)} frames)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
