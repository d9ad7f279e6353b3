"""Hostile virtual boards: a board that lies, to prove that a board cannot hurt the host.

A `HostileEngine` is a `BoardEngine` that tampers with what it sends, in the ways listed in
`KINDS` (lying INFO fields, control characters and markup in every string, oversize and
malformed frames, MODEL_ACKs that go backwards or beyond what was sent, silence after
HELLO). Everything else it does honestly, so each kind tests one lie.

    fleet sim --hostile max-payload,control
    fleet sim --clone-uid 0123456789abcdef      # claims another board's identity

A clone (`uid=`) reports another board's uid in INFO and is honest otherwise: the host must
notice that one uid answers on two ports and act on neither as that board (a `conflict`,
fleet.discovery.flag_conflicts).

The host must refuse each such board with an error naming the board and what was wrong,
in bounded time and memory, and never let a board's bytes reach a terminal raw
(tests/hostile/, docs/virtual-boards.md "Hostile boards").
"""

from __future__ import annotations

import dataclasses

from fleet.error_codes import ErrorCode
from fleet.errors import ConfigError
from fleet.protocol import (
    MAX_UID, BeginAck, ChunkAck, CommitAck, DataAck, Flags, Header, Info, Log, LogLevel, Message, ModelBegin, ModelCommit, MsgType, Power,
    SlotInfo, SlotStatus, StreamConfig, encode_frame,
)  # fmt: skip
from fleet.protocol.framing import DELIMITER
from fleet.sim.dispatch import Handler
from fleet.sim.engine import BoardEngine
from fleet.sim.refusal import Refusal

KINDS: dict[str, str] = {
    "max-payload": "INFO says max_payload 4 (the protocol minimum is 512)",
    "active-slot": "INFO and SLOT_STATUS name slot 7 as running",
    "slot-state": "INFO and SLOT_STATUS give slot 0 the state 9",
    "slot-size": "slot 0 holds one byte more than slot_bytes",
    "received": "slot 1 has received more bytes than its size",
    "long-string": "INFO's firmware version is a 200-byte str8 (the limit is 32)",
    "bad-utf8": "INFO's board kind is not UTF-8",
    "control": "every string carries terminal escapes, bidi overrides and Textual markup; the board logs such a "
               "text whenever its streams change, and refuses COMMIT with one",
    "bad-events": "LOG events at level 9 (levels are 0..3)",
    "malformed": "POWER events two bytes short of their layout",
    "oversize": "after INFO, 40 KB without a frame delimiter, then a frame longer than the host accepts",
    "begin-offset": "the BEGIN ack offers to resume one byte beyond the end of the model",
    "ack-backwards": "MODEL_ACKs and DATA_ACKs go back below what the board acknowledged before",
    "ack-beyond": "MODEL_ACKs and DATA_ACKs claim a million bytes that were never sent",
    "silent": "answers HELLO, then nothing at all",
}

# Terminal escapes (OSC title, clear screen, colour), BEL, a C1 CSI, a bidi override and
# Textual markup: short ones fit a str8 (32 bytes), the long one goes in LOG and ERROR texts.
CONTROL_SHORT = ("\x1b[31mkind\x1b[0m\u202e[b]x", "\x1b]0;pwned\x07[red]fw[/]", "\x9b2J[@click=app.quit]")
CONTROL_TEXT = ("\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b[0m [red]x[/] [@click=app.quit]quit[/] "
                "\u202eevil\u202c\r\nforged log line\x9b31m\x07")  # fmt: skip
OVERSIZE_JUNK = 40 * 1024  # with the frame below, within the sim's 64 KiB transmit queue
OVERSIZE_PAYLOAD = 8000  # beyond the host's 4096


def parse_uid(text: str) -> bytes:
    """`--clone-uid HEX` to bytes; ConfigError for text that is not 1..16 bytes of hex."""
    try:
        uid = bytes.fromhex(text)
    except ValueError:
        uid = b""
    if not 0 < len(uid) <= MAX_UID:
        raise ConfigError(f"--clone-uid {text!r}: a board uid is 1..{MAX_UID} bytes of hex, e.g. 0123456789abcdef")
    return uid


def parse_kinds(text: str) -> tuple[str, ...]:
    """`KIND[,KIND...]` to a tuple; ConfigError naming an unknown kind and the known ones."""
    return checked_kinds(tuple(k.strip() for k in text.split(",") if k.strip()))


def checked_kinds(kinds: tuple[str, ...]) -> tuple[str, ...]:
    for kind in kinds:
        if kind not in KINDS:
            raise ConfigError(f"--hostile: unknown kind {kind!r}; known: {', '.join(KINDS)}")
    return kinds


class HostileEngine(BoardEngine):
    """A board engine that lies in the ways `kinds` names (keys of `KINDS`)."""

    def __init__(self, *args: object, kinds: tuple[str, ...], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.kinds = frozenset(checked_kinds(kinds))
        self._spoke = False  # INFO sent: `silent` says nothing more
        self._acked = 0  # the highest MODEL_ACK sent (`ack-backwards`)

    @classmethod
    def wrapping(cls, engine: BoardEngine, kinds: tuple[str, ...], *, uid: bytes | None = None) -> HostileEngine:
        """A hostile engine on `engine`'s configuration, flash, clock and model loader;
        with `uid`, one that claims that uid (another board's) as its own."""
        config = engine.config if uid is None else dataclasses.replace(engine.config, uid=uid)
        return cls(config, engine.store, engine.clock, engine.loader, kinds=kinds)

    # --- responses ---------------------------------------------------------------------

    def _respond(self, header: Header, response: Message) -> None:
        if self._silenced():
            return
        if isinstance(response, Info):
            self._spoke = True
            self._out.append(encode_frame(header.type, header.seq, Flags.RESPONSE, self._info_payload(response)))
            if "oversize" in self.kinds:
                self._out.append(b"\x01" * OVERSIZE_JUNK + DELIMITER)
                self._out.append(encode_frame(MsgType.LOG, 0, Flags.NONE, bytes(OVERSIZE_PAYLOAD)))
            return
        super()._respond(header, self._tamper(response))

    def _error(self, header: Header, refusal: Refusal) -> None:
        if "control" in self.kinds:
            refusal = Refusal(refusal.code, CONTROL_TEXT, refusal.detail)
        if not self._silenced():
            super()._error(header, refusal)

    def _tamper(self, response: Message) -> Message:
        if isinstance(response, SlotStatus):
            return dataclasses.replace(response, active_slot=self._active(response.active_slot),
                                       slots=self._slots(response.slots))  # fmt: skip
        if isinstance(response, (ChunkAck, DataAck)):  # plain and encoded uploads lie alike
            honest = response.next_offset
            if "ack-beyond" in self.kinds:
                return dataclasses.replace(response, next_offset=honest + 1_000_000)
            if "ack-backwards" in self.kinds and self._acked:
                return dataclasses.replace(response, next_offset=self._acked - 1)
            self._acked = max(self._acked, honest)
        return response

    def _info_payload(self, info: Info) -> bytes:
        kinds = self.kinds
        if "control" in kinds:
            info = dataclasses.replace(info, board_kind=CONTROL_SHORT[0], firmware_version=CONTROL_SHORT[1])
        info = dataclasses.replace(
            info, active_slot=self._active(info.active_slot), slots=self._slots(info.slots),
            max_payload=4 if "max-payload" in kinds else info.max_payload,
        )  # fmt: skip
        if not kinds & {"long-string", "bad-utf8"}:
            return info.encode()
        # Strings no honest encoder writes: spliced in by hand.
        plain = dataclasses.replace(info, board_kind="", firmware_version="").encode()
        head = Info.WIRE.head_size + 1 + len(info.uid)
        kind = b"\x03\xff\xfe\xfd" if "bad-utf8" in kinds else _str8(info.board_kind)
        firmware = b"\xc8" + b"v" * 200 if "long-string" in kinds else _str8(info.firmware_version)
        return plain[:head] + kind + firmware + plain[head + 2 :]

    def _active(self, active_slot: int) -> int:
        return 7 if "active-slot" in self.kinds else active_slot

    def _slots(self, slots: tuple[SlotInfo, SlotInfo]) -> tuple[SlotInfo, SlotInfo]:
        first, second = slots
        if "slot-state" in self.kinds:
            first = dataclasses.replace(first, state=9)
        if "slot-size" in self.kinds:
            too_big = self.profile.slot_bytes + 1
            first = dataclasses.replace(first, size=too_big, received=too_big)
        if "received" in self.kinds:
            second = dataclasses.replace(second, received=second.size + 1)
        if "control" in self.kinds:
            first = dataclasses.replace(first, name=CONTROL_SHORT[2], version=CONTROL_SHORT[0])
        return first, second

    # --- requests ----------------------------------------------------------------------

    def _handlers(self) -> dict[int, Handler]:
        handlers = super()._handlers()
        begin, commit = handlers[MsgType.MODEL_BEGIN], handlers[MsgType.MODEL_COMMIT]

        def lying_begin(request: ModelBegin) -> BeginAck:
            ack = begin(request)
            assert isinstance(ack, BeginAck)
            self._acked = ack.offset
            return BeginAck(ack.slot, request.size + 1) if "begin-offset" in self.kinds else ack

        def lying_commit(request: ModelCommit) -> CommitAck | None:
            if "control" in self.kinds:
                raise Refusal(ErrorCode.MODEL_INVALID, CONTROL_TEXT)
            ack = commit(request)
            assert ack is None or isinstance(ack, CommitAck)  # None: parked for the test-load
            return ack

        return handlers | {MsgType.MODEL_BEGIN: lying_begin, MsgType.MODEL_COMMIT: lying_commit}

    def _stream_config(self, request: StreamConfig) -> Message:
        applied = super()._stream_config(request)
        if "control" in self.kinds:
            self._log(LogLevel.WARN, CONTROL_TEXT)
        return applied

    # --- events ------------------------------------------------------------------------

    def _event(self, msg: Message) -> int:
        if self._silenced():
            return 0
        if isinstance(msg, Log):
            if "bad-events" in self.kinds:
                msg = dataclasses.replace(msg, level=9)
            if "control" in self.kinds:
                msg = dataclasses.replace(msg, text=f"{msg.text} {CONTROL_TEXT}")
        if isinstance(msg, Power) and "malformed" in self.kinds:
            frame = encode_frame(msg.TYPE, self._event_seq, Flags.NONE, msg.encode()[:-2])
            self._event_seq = (self._event_seq + 1) & 0xFFFF
            self.stats.events += 1
            self._out.append(frame)
            return len(frame)
        return super()._event(msg)

    def _silenced(self) -> bool:
        return "silent" in self.kinds and self._spoke


def _str8(text: str) -> bytes:
    raw = text.encode("utf-8")
    return bytes([len(raw)]) + raw
