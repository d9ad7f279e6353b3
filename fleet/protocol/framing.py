"""Frames on the wire: COBS(header | payload | CRC-32) followed by a 0x00 delimiter.

`encode_frame` and `decode_frame` handle one frame and raise typed errors. `FrameDecoder`
is the streaming side: feed it whatever chunks the transport delivers and it yields
complete frames, resynchronising at the next delimiter after garbage and counting what
it had to drop instead of raising, because one bad byte on a serial line must never stop
the stream.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cobs import cobs

from fleet.errors import BadCRC, FrameTooLong, MalformedFrame
from fleet.protocol.header import HEADER, HEADER_SIZE, PROTOCOL_VERSION, Flags, Header

CRC_SIZE = 4
# CRC-32 of any data followed by its own CRC-32 (little-endian): the CRC's residue, so one
# pass over a received body checks it.
CRC_RESIDUE = 0x2144DF1C
OVERHEAD = HEADER_SIZE + CRC_SIZE
DELIMITER = b"\x00"
MAX_PAYLOAD = 0xFFFF  # the header's u16 length field
DEFAULT_MAX_PAYLOAD = 4096  # what a host accepts unless told otherwise


def max_encoded_size(max_payload: int) -> int:
    """Longest COBS encoding (without delimiter) of a frame carrying `max_payload` bytes."""
    body = max_payload + OVERHEAD
    return body + (body + 253) // 254


class Frame(NamedTuple):
    """One received frame: its header and raw payload (message decoding is separate)."""

    header: Header
    payload: bytes


def encode_frame(type_: int, seq: int, flags: int, payload: bytes = b"") -> bytes:
    """Encode one frame, delimiter included, ready to write to the wire."""
    if len(payload) > MAX_PAYLOAD:
        raise FrameTooLong(f"payload of {len(payload)} bytes exceeds the protocol maximum of {MAX_PAYLOAD}")
    body = HEADER.pack(PROTOCOL_VERSION, type_, flags, 0, seq, len(payload)) + payload
    body += zlib.crc32(body).to_bytes(CRC_SIZE, "little")
    return cobs.encode(body) + DELIMITER


def decode_frame(encoded: bytes | bytearray, max_payload: int = MAX_PAYLOAD) -> Frame:
    """Decode one COBS-encoded frame (delimiter removed).

    Raises FrameTooLong, MalformedFrame or BadCRC.
    """
    body = decode_body(encoded, max_payload)
    return _new_frame(Frame, (Header.unpack(body), body[HEADER_SIZE:-CRC_SIZE]))


def decode_body(encoded: bytes | bytearray, max_payload: int = MAX_PAYLOAD) -> bytes:
    """One COBS-encoded frame's checked body: header, payload and CRC (delimiter removed).

    Raises FrameTooLong, MalformedFrame or BadCRC, as `decode_frame` does.
    """
    if len(encoded) > max_encoded_size(max_payload):
        raise FrameTooLong(f"frame of {len(encoded)} encoded bytes exceeds the limit for {max_payload}-byte payloads")
    return _decode_body(encoded, max_payload)


def _decode_body(encoded: bytes | bytearray, max_payload: int) -> bytes:
    # `decode_body` past its size check, which a FrameDecoder's candidates have passed already.
    try:
        body: bytes = _cobs_decode(encoded)
    except _CobsError as exc:
        raise MalformedFrame(f"invalid COBS encoding: {exc}") from None
    carried = len(body) - OVERHEAD  # payload bytes
    if carried < 0:
        raise MalformedFrame(f"frame of {len(body)} bytes is shorter than header + CRC ({OVERHEAD})")
    if _crc32(body) != CRC_RESIDUE:  # = the CRC of body[:-4] is its last 4 bytes, without slicing it off
        raise BadCRC(f"CRC-32 mismatch in a {len(body)}-byte frame")
    length = body[6] | body[7] << 8  # the header's u16 payload length
    if length != carried:
        raise MalformedFrame(f"header says {length} payload bytes, frame carries {carried}")
    if length > max_payload:
        raise FrameTooLong(f"payload of {length} bytes exceeds the limit of {max_payload}")
    return body


_cobs_decode, _CobsError, _crc32 = cobs.decode, cobs.DecodeError, zlib.crc32  # looked up once, not per frame
_new_frame = tuple.__new__
_RESPONSE = int(Flags.RESPONSE)  # a plain int: `IntFlag.__and__` costs microseconds a frame


@dataclass(slots=True)
class DecoderStats:
    """What a FrameDecoder has seen: good frames and each kind of loss."""

    frames: int = 0
    bad_crc: int = 0
    too_long: int = 0
    malformed: int = 0
    discarded_bytes: int = field(default=0)

    @property
    def errors(self) -> int:
        return self.bad_crc + self.too_long + self.malformed


# A streamed event decoded on the fast path (`fleet.protocol.stream`): its message type,
# its sequence number and its field values in declaration order.
StreamRecord = tuple[int, int, tuple[Any, ...]]
# An unpacker of `fleet.protocol.stream`: a checked frame body to its event's field values,
# or None when anything in it is not as protocol v1 allows.
Unpacker = Callable[[bytes], "tuple[Any, ...] | None"]


class FrameDecoder:
    """Streaming frame decoder: `feed(bytes) -> list[Frame]`, never raises on bad input.

    Bytes between delimiters form one candidate frame. A candidate that grows past the
    maximum encoded size is dropped at once (so memory stays bounded) and everything up
    to the next delimiter is skipped. Empty candidates (consecutive delimiters) are idle
    bytes, not errors: a sender may lead with 0x00 to flush a half-received frame.

    `stream` (by message type, `fleet.protocol.stream.STREAM_UNPACKERS`) turns on the fast
    path for streamed events: a v1 event frame of such a type comes out as a
    `StreamRecord` (a plain tuple, not a `Frame`) when its unpacker accepts it, and as a
    `Frame` (for the general decoding to refuse) when it does not. `general` counts the
    `Frame`s among what the last `feed` returned.
    """

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
        self.max_payload = max_payload
        self._max_encoded = max_encoded_size(max_payload)
        self._buf = bytearray()
        self._skipping = False
        self.stats = DecoderStats()
        self._stream: dict[int, Unpacker] | None = None
        # The fast path by a body's first two bytes: version 1 and the type.
        self._fast: dict[bytes, tuple[int, Unpacker]] = {}
        self.general = 0  # frames (not stream records) that the last `feed` returned

    @property
    def stream(self) -> dict[int, Unpacker] | None:
        return self._stream

    @stream.setter
    def stream(self, unpackers: dict[int, Unpacker] | None) -> None:
        self._stream = unpackers
        self._fast = {bytes((PROTOCOL_VERSION, type_)): (type_, unpack) for type_, unpack in (unpackers or {}).items()}

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame | StreamRecord]:
        """Add received bytes; return the frames they complete, in order."""
        if data.__class__ is not bytes:
            data = bytes(data)
        candidates = data.split(DELIMITER)
        rest = candidates.pop()  # after the last delimiter: the start of a frame still arriving
        if candidates and (self._buf or self._skipping):
            # The first candidate ends the frame that earlier chunks began.
            self._append(candidates[0])
            candidates[0] = b"" if self._skipping else bytes(self._buf)
            self._skipping = False
            self._buf.clear()
        if rest:
            self._append(rest)
        # Every complete candidate in one loop: a streaming board sends hundreds of frames a
        # second, and this runs for each.
        frames: list[Frame | StreamRecord] = []
        append, stats, fast, max_encoded, max_payload = frames.append, self.stats, self._fast, self._max_encoded, self.max_payload
        general = 0
        for candidate in candidates:
            if not candidate:
                continue  # idle bytes between delimiters, not an error
            if len(candidate) > max_encoded:
                stats.too_long += 1
                stats.discarded_bytes += len(candidate)
                continue
            try:
                body = _decode_body(candidate, max_payload)
            except BadCRC:
                stats.bad_crc += 1
            except FrameTooLong:
                stats.too_long += 1
            except MalformedFrame:
                stats.malformed += 1
            else:
                found = fast.get(body[:2])
                values = found[1](body) if found is not None and not body[2] & _RESPONSE else None  # events only
                if values is not None:
                    append((found[0], body[4] | body[5] << 8, values))  # type: ignore[index]
                else:
                    general += 1
                    append(_new_frame(Frame, (Header.unpack(body), body[HEADER_SIZE:-CRC_SIZE])))
                continue
            stats.discarded_bytes += len(candidate)
        stats.frames += len(frames)
        self.general = general
        return frames

    def _append(self, chunk: bytes) -> None:
        if self._skipping:
            self.stats.discarded_bytes += len(chunk)
            return
        if len(self._buf) + len(chunk) > self._max_encoded:
            self.stats.too_long += 1
            self.stats.discarded_bytes += len(self._buf) + len(chunk)
            self._buf.clear()
            self._skipping = True
            return
        self._buf += chunk

    def reset(self) -> None:
        """Drop any partial frame (after a reconnect the old bytes mean nothing)."""
        self._buf.clear()
        self._skipping = False

