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
        body: bytes = cobs.decode(encoded)
    except cobs.DecodeError as exc:
        raise MalformedFrame(f"invalid COBS encoding: {exc}") from None
    if len(body) < OVERHEAD:
        raise MalformedFrame(f"frame of {len(body)} bytes is shorter than header + CRC ({OVERHEAD})")
    if zlib.crc32(body) != CRC_RESIDUE:  # = the CRC of body[:-4] is its last 4 bytes, without slicing it off
        raise BadCRC(f"CRC-32 mismatch in a {len(body)}-byte frame")
    length = body[6] | body[7] << 8  # the header's u16 payload length
    if length != len(body) - OVERHEAD:
        raise MalformedFrame(f"header says {length} payload bytes, frame carries {len(body) - OVERHEAD}")
    if length > max_payload:
        raise FrameTooLong(f"payload of {length} bytes exceeds the limit of {max_payload}")
    return body


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
    path for streamed events: a v1 event frame of such a type comes out as a `StreamRecord`
    (a plain tuple, not a `Frame`) when its unpacker accepts it, and as a `Frame` (for the
    general decoding to refuse) when it does not.
    """

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
        self.max_payload = max_payload
        self._max_encoded = max_encoded_size(max_payload)
        self._buf = bytearray()
        self._skipping = False
        self.stats = DecoderStats()
        self.stream: dict[int, Unpacker] | None = None

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame | StreamRecord]:
        """Add received bytes; return the frames they complete, in order."""
        frames: list[Frame | StreamRecord] = []
        if isinstance(data, memoryview):
            data = bytes(data)
        start = 0
        while True:
            end = data.find(0, start)
            if end < 0:
                if start < len(data):
                    self._append(memoryview(data)[start:])
                return frames
            if not self._buf and not self._skipping:
                # The usual case: a whole frame inside this chunk, decoded from it directly.
                if end - start > self._max_encoded:
                    self.stats.too_long += 1
                    self.stats.discarded_bytes += end - start
                elif end > start:
                    self._decode_candidate(frames, data[start:end])
            else:
                self._append(memoryview(data)[start:end])
                if self._skipping:
                    self._skipping = False
                elif self._buf:
                    self._decode_candidate(frames, self._buf)
                self._buf.clear()
            start = end + 1

    def _append(self, chunk: memoryview) -> None:
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

    def _decode_candidate(self, frames: list[Frame | StreamRecord], candidate: bytes | bytearray) -> None:
        try:
            body = _decode_body(candidate, self.max_payload)
        except BadCRC:
            self.stats.bad_crc += 1
        except FrameTooLong:
            self.stats.too_long += 1
        except MalformedFrame:
            self.stats.malformed += 1
        else:
            self.stats.frames += 1
            stream = self.stream
            # A v1 event (no RESPONSE flag) of a streamed type, which its unpacker accepts.
            unpack = stream.get(body[1]) if stream is not None and body[0] == PROTOCOL_VERSION and not body[2] & _RESPONSE else None
            values = unpack(body) if unpack is not None else None
            if values is not None:
                frames.append((body[1], body[4] | body[5] << 8, values))
            else:
                frames.append(_new_frame(Frame, (Header.unpack(body), body[HEADER_SIZE:-CRC_SIZE])))
            return
        self.stats.discarded_bytes += len(candidate)

    def reset(self) -> None:
        """Drop any partial frame (after a reconnect the old bytes mean nothing)."""
        self._buf.clear()
        self._skipping = False

