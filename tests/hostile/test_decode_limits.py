"""Every field a board sends is checked against PROTOCOL.md's limits when it is decoded: a
value out of range is a `FieldOutOfRange` naming the message, the field, the value and the
limit, never a ValueError, struct.error or UnicodeDecodeError later on."""

from __future__ import annotations

import struct
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.errors import FieldOutOfRange, MalformedMessage, ProtocolError
from fleet.protocol import messages as m
from fleet.protocol.answers import check_answer

SHA = bytes(range(32))


def info(**changes) -> m.Info:
    fields = dict(
        proto_version=1, active_slot=0, max_payload=1024, capabilities=0x1F, rx_window=4096, arena_bytes=65536,
        slot_bytes=100_000, cpu_hz=64_000_000, uid=b"\x01" * 8, board_kind="nano33ble", firmware_version="fw 1",
        slots=(m.SlotInfo(m.SlotState.ACTIVE, 3000, 3000, SHA, "sine", "1"), m.SlotInfo()),
    )  # fmt: skip
    fields.update(changes)
    return m.Info(**fields)


def refused(cls: type[m.Message], msg: m.Message) -> FieldOutOfRange:
    with pytest.raises(FieldOutOfRange) as caught:
        cls.decode(msg.encode())
    return caught.value


def test_a_valid_info_decodes_unchanged():
    assert m.Info.decode(info().encode()) == info()


def test_max_payload_below_the_protocol_minimum_is_refused():
    err = refused(m.Info, info(max_payload=4))
    assert (err.field, err.value) == ("max_payload", 4)
    assert str(err) == "Info: max_payload is 4; the protocol minimum is 512"


@pytest.mark.parametrize("active", [2, 7, 0xFE])
def test_active_slot_must_be_a_slot_or_none(active):
    err = refused(m.Info, info(active_slot=active))
    assert (err.field, err.value) == ("active_slot", active)
    assert "0, 1 or 255" in str(err)


def test_a_slot_state_beyond_active_is_refused():
    err = refused(m.Info, info(slots=(m.SlotInfo(9), m.SlotInfo())))
    assert (err.field, err.value) == ("slot 0 state", 9)
    assert "0..4" in str(err)


def test_a_slot_larger_than_slot_bytes_is_refused():
    err = refused(m.Info, info(slots=(m.SlotInfo(m.SlotState.ACTIVE, 200_000, 200_000, SHA), m.SlotInfo())))
    assert (err.field, err.value) == ("slot 0 size", 200_000)
    assert "slot_bytes 100000" in str(err)


def test_received_beyond_size_is_refused():
    err = refused(m.Info, info(slots=(m.SlotInfo(), m.SlotInfo(m.SlotState.RECEIVING, 10, 11, SHA))))
    assert (err.field, err.value) == ("slot 1 received", 11)


@pytest.mark.parametrize("cls", [m.ActivateAck, m.ConfirmAck, m.RollbackAck])
def test_slot_status_is_checked_like_info(cls):
    with pytest.raises(FieldOutOfRange, match="active_slot is 3"):
        cls.decode(cls(3, (m.SlotInfo(), m.SlotInfo())).encode())
    with pytest.raises(FieldOutOfRange, match="slot 1 state is 5"):
        cls.decode(cls(0xFF, (m.SlotInfo(), m.SlotInfo(5))).encode())


def test_events_with_values_the_protocol_does_not_define_are_refused():
    with pytest.raises(FieldOutOfRange, match="level is 9; "):
        m.Log.decode(m.Log(1, 9, "x").encode())
    with pytest.raises(FieldOutOfRange, match="reason is 4; "):
        m.Boot.decode(m.Boot(4, 1).encode())
    result = m.InferResult(1, 2, 3, 4, b"abcd", 9, 2, 0.5, 0, b"\x01")
    with pytest.raises(FieldOutOfRange, match="format is 2; "):
        m.InferResult.decode(result.encode())


def test_acks_name_a_real_slot():
    with pytest.raises(FieldOutOfRange, match="BeginAck: slot is 2"):
        m.BeginAck.decode(m.BeginAck(2, 0).encode())
    with pytest.raises(FieldOutOfRange, match="CommitAck: slot is 9"):
        m.CommitAck.decode(m.CommitAck(9, 0).encode())


def test_stream_config_ack_levels_and_bits():
    with pytest.raises(FieldOutOfRange, match="log_level is 4"):
        m.StreamConfigAck.decode(m.StreamConfigAck(0, 4).encode())
    with pytest.raises(FieldOutOfRange, match="streams is 0x80"):
        m.StreamConfigAck.decode(m.StreamConfigAck(0x80).encode())


def test_str8_beyond_32_bytes_and_invalid_utf8_are_typed():
    payload = bytearray(info(firmware_version="").encode())
    fixed = struct.calcsize("<BBHIIIII")
    at = fixed + 1 + 8 + 1 + len("nano33ble")  # the firmware version's length byte
    assert payload[at] == 0
    long = payload[:at] + bytes([40]) + b"v" * 40 + payload[at + 1 :]
    with pytest.raises(MalformedMessage, match="firmware version is 40 bytes, the limit is 32"):
        m.Info.decode(bytes(long))
    bad = payload[:at] + b"\x02\xff\xfe" + payload[at + 1 :]
    with pytest.raises(MalformedMessage, match="firmware version is not valid UTF-8"):
        m.Info.decode(bytes(bad))


# --- answers that do not fit their request ---------------------------------------------


def test_begin_ack_must_name_the_requested_slot_and_an_offset_within_the_model():
    begin = m.ModelBegin(1, 5000, SHA, "m", "1")
    check_answer(begin, m.BeginAck(1, 5000), None)
    with pytest.raises(FieldOutOfRange, match="BeginAck: slot is 0; MODEL_BEGIN asked for slot 1"):
        check_answer(begin, m.BeginAck(0, 0), None)
    with pytest.raises(FieldOutOfRange, match="BeginAck: offset is 5001; .*5000"):
        check_answer(begin, m.BeginAck(1, 5001), None)


def test_commit_ack_must_name_the_committed_slot():
    with pytest.raises(FieldOutOfRange, match="CommitAck: slot is 0; MODEL_COMMIT asked for slot 1"):
        check_answer(m.ModelCommit(1), m.CommitAck(0, 100), None)


def test_pong_must_echo_the_ping():
    check_answer(m.Ping(b"abc"), m.Pong(5, b"abc"), None)
    with pytest.raises(FieldOutOfRange, match="Pong: data is 4 bytes"):
        check_answer(m.Ping(b"abc"), m.Pong(5, b"abcd"), None)


def test_slot_status_sizes_are_checked_against_the_boards_slot_bytes():
    big = m.ActivateAck(0, (m.SlotInfo(m.SlotState.PENDING, 200_000, 200_000, SHA), m.SlotInfo()))
    check_answer(m.ModelActivate(0), big, None)  # no INFO yet: nothing to compare with
    with pytest.raises(FieldOutOfRange, match="slot 0 size is 200000; .*slot_bytes 100000"):
        check_answer(m.ModelActivate(0), big, info())


# --- fuzz: whatever the bytes, only typed errors -----------------------------------------

BOARD_MESSAGES = sorted({*m.RESPONSES.values(), *m.EVENTS.values(), m.Error}, key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", BOARD_MESSAGES, ids=lambda c: c.__name__)
def test_any_payload_decodes_or_raises_a_protocol_error(cls):
    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=300))
    def check(payload):
        try:
            msg = cls.decode(payload)
        except ProtocolError:
            return
        for value in vars_of(msg):
            if isinstance(value, str):
                assert not [c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]

    check()


def vars_of(msg) -> list[object]:  # noqa: ANN001
    values = [getattr(msg, name) for name in msg.__dataclass_fields__]
    for slot in getattr(msg, "slots", ()):
        values += [slot.name, slot.version]
    return values
