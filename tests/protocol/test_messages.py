"""Message-level validation: what encode refuses and decode rejects, with clear errors."""

import pytest

from fleet.errors import MalformedMessage, UnknownMessageType, UnsupportedVersion
from fleet.protocol import (
    Frame, Header, Info, ModelBegin, ModelCommit, MsgType, Pong, Runtime, RuntimeInfo, SlotInfo, decode_message,
)  # fmt: skip


def test_names_longer_than_32_bytes_are_refused_on_encode():
    with pytest.raises(MalformedMessage, match="name is 33 bytes"):
        ModelBegin(1, 10, bytes(32), "x" * 33).encode()


def test_hash_must_be_32_bytes():
    with pytest.raises(MalformedMessage, match="sha256 must be 32 bytes, got 5"):
        ModelBegin(1, 10, b"short").encode()


def test_out_of_range_field_is_a_typed_error():
    with pytest.raises(MalformedMessage, match="out of range"):
        ModelCommit(256).encode()


def test_info_needs_exactly_two_slots():
    with pytest.raises(MalformedMessage, match="exactly 2 slots"):
        Info(1, 0, 512, 0, 0, 0, 0, 0, b"", "", "", (SlotInfo(),)).encode()


def test_trailing_bytes_are_malformed():
    with pytest.raises(MalformedMessage, match="trailing"):
        ModelBegin.decode(ModelBegin(1, 10, bytes(32)).encode() + b"\x00")


def test_invalid_utf8_name_is_malformed():
    payload = bytearray(ModelBegin(1, 10, bytes(32), "ab").encode())
    payload[-3] = 0xFF  # first byte of the name
    with pytest.raises(MalformedMessage, match="UTF-8"):
        ModelBegin.decode(bytes(payload))


def test_string_running_past_the_payload_is_malformed():
    payload = ModelBegin(1, 10, bytes(32), "abc").encode()
    with pytest.raises(MalformedMessage):
        ModelBegin.decode(payload[:-2])


def test_unknown_types_and_versions():
    with pytest.raises(UnknownMessageType, match="0x1f"):
        decode_message(Frame(Header(type=0x1F), b""))
    with pytest.raises(UnknownMessageType, match="response"):
        decode_message(Frame(Header(type=MsgType.BOOT, flags=1), b""))
    with pytest.raises(UnsupportedVersion, match="version 2"):
        decode_message(Frame(Header(type=MsgType.PING, version=2), b""))


def test_info_active_slot_helper():
    slots = (SlotInfo(), SlotInfo(state=4, name="m"))
    assert Info(1, 1, 512, 0, 0, 0, 0, 0, b"", "", "", slots).active.name == "m"
    assert Info(1, 0xFF, 512, 0, 0, 0, 0, 0, b"", "", "", slots).active is None


def test_pong_keeps_the_echo():
    assert Pong.decode(Pong(5, b"\x00\x01").encode()) == Pong(5, b"\x00\x01")


# --- RUNTIME -------------------------------------------------------------------------

RUNTIME_INFO = RuntimeInfo("tflm 90b983c cmsis-nn", (3, 4, 9), ("SignalWindow",))


def test_runtime_info_round_trips_and_keeps_wire_order():
    assert RuntimeInfo.decode(RUNTIME_INFO.encode()) == RUNTIME_INFO


def test_runtime_info_carries_tflm_custom_operator_names_longer_than_other_strings():
    # TFLM's own Signal library has a 35-byte operator name; str8's 32 would refuse every
    # TFLM board's RUNTIME answer.
    info = RuntimeInfo("tflm 90b983c reference", (9,), ("SignalFilterBankSpectralSubtraction", "x" * 64))
    assert RuntimeInfo.decode(info.encode()) == info


def test_runtime_request_is_empty():
    assert Runtime().encode() == b""
    with pytest.raises(MalformedMessage, match="expected 0"):
        Runtime.decode(b"\x00")


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"", "too short"),
        (b"\x00", "too short"),  # no builtin count
        (b"\x00\x05\x00\x09\x00\x00", "5 builtins need 10 bytes, 3 left"),
        (b"\x00\x01\x00\x09\x00", "too short"),  # no custom count
        (b"\x00\x02\x00\x09\x00\x09\x00\x00", "code 9 is listed twice"),
        (b"\x00\x01\x00\x20\x00\x00", "CUSTOM"),
        (b"\x00\x00\x00\x02\x01A\x01A", "'A' is listed twice"),
        (b"\x00\x00\x00\x01\x00", "name is empty"),
        (b"\x00\x00\x00\x01\x05abc", "runs past the end"),
        (b"\x00\x00\x00\x01\x02\xff\xfe", "UTF-8"),
        (b"\x00\x00\x00\x01\x02a\x00", "U\\+0000"),
        (b"\x01\x00\x00\x00\x00", "U\\+0000"),
        (b"\x05\x1b[2Jx\x00\x00\x00", "control character U\\+001B"),  # a terminal escape
        (b"\x00\x00\x00\x01\x03a\xc2\x9b", "U\\+009B"),  # C1 CSI
        (b"\x00\x00\x00\x01\x41" + b"x" * 65, "65 bytes, the limit is 64"),
        (b"\x21" + b"x" * 33 + b"\x00\x00\x00", "runtime is 33 bytes"),
        (b"\x00\x00\x00\x00\x00", "1 unexpected trailing"),
    ],
)
def test_malformed_runtime_info_is_refused_naming_the_fault(payload, match):
    with pytest.raises(MalformedMessage, match=match):
        RuntimeInfo.decode(payload)


@pytest.mark.parametrize(
    ("msg", "match"),
    [
        (RuntimeInfo("r", (9, 9)), "listed twice"),
        (RuntimeInfo("r", (32,)), "CUSTOM"),
        (RuntimeInfo("r", (0x10000,)), "out of range"),
        (RuntimeInfo("r", (), ("x" * 65,)), "65 bytes"),
        (RuntimeInfo("x" * 33, ()), "33 bytes"),
        (RuntimeInfo("r", (), tuple(f"op{i}" for i in range(256))), "at most 255"),
    ],
)
def test_runtime_info_encode_refuses_what_decode_would(msg, match):
    with pytest.raises(MalformedMessage, match=match):
        msg.encode()
