"""Frames on the wire: COBS(header | payload | CRC-32) followed by a 0x00 delimiter.

`encode_frame` and `decode_frame` handle one frame and raise typed errors. `FrameDecoder`
is the streaming side: feed it whatever chunks the transport delivers and it yields
complete frames, resynchronising at the next delimiter after garbage and counting what
it had to drop instead of raising, because one bad byte on a serial line must never stop
the stream.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import NamedTuple

from cobs import cobs

from fleet.errors import BadCRC, FrameTooLong, MalformedFrame
from fleet.protocol.header import HEADER, HEADER_SIZE, PROTOCOL_VERSION, Header

CRC_SIZE = 4
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
    if len(encoded) > max_encoded_size(max_payload):
        raise FrameTooLong(f"frame of {len(encoded)} encoded bytes exceeds the limit for {max_payload}-byte payloads")
    try:
        body = cobs.decode(encoded)
    except cobs.DecodeError as exc:
        raise MalformedFrame(f"invalid COBS encoding: {exc}") from None
    if len(body) < OVERHEAD:
        raise MalformedFrame(f"frame of {len(body)} bytes is shorter than header + CRC ({OVERHEAD})")
    crc = int.from_bytes(body[-CRC_SIZE:], "little")
    if zlib.crc32(body[:-CRC_SIZE]) != crc:
        raise BadCRC(f"CRC-32 mismatch in a {len(body)}-byte frame")
    header = Header.unpack(body)
    if header.length != len(body) - OVERHEAD:
        raise MalformedFrame(f"header says {header.length} payload bytes, frame carries {len(body) - OVERHEAD}")
    if header.length > max_payload:
        raise FrameTooLong(f"payload of {header.length} bytes exceeds the limit of {max_payload}")
    return _new_frame(Frame, (header, body[HEADER_SIZE:-CRC_SIZE]))


_new_frame = tuple.__new__


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


class FrameDecoder:
    """Streaming frame decoder: `feed(bytes) -> list[Frame]`, never raises on bad input.

    Bytes between delimiters form one candidate frame. A candidate that grows past the
    maximum encoded size is dropped at once (so memory stays bounded) and everything up
    to the next delimiter is skipped. Empty candidates (consecutive delimiters) are idle
    bytes, not errors: a sender may lead with 0x00 to flush a half-received frame.
    """

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
        self.max_payload = max_payload
        self._max_encoded = max_encoded_size(max_payload)
        self._buf = bytearray()
        self._skipping = False
        self.stats = DecoderStats()

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Add received bytes; return the frames they complete, in order."""
        frames: list[Frame] = []
        if isinstance(data, memoryview):
            data = bytes(data)
        view = memoryview(data)
        start = 0
        while True:
            end = data.find(0, start)
            if end < 0:
                if start < len(data):
                    self._append(view[start:])
                return frames
            if not self._buf and not self._skipping:
                # The usual case: a whole frame inside this chunk, decoded from it directly.
                if end - start > self._max_encoded:
                    self.stats.too_long += 1
                    self.stats.discarded_bytes += end - start
                elif end > start:
                    self._decode_candidate(frames, data[start:end])
            else:
                self._append(view[start:end])
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

    def _decode_candidate(self, frames: list[Frame], candidate: bytes | bytearray) -> None:
        try:
            frames.append(decode_frame(candidate, self.max_payload))
        except BadCRC:
            self.stats.bad_crc += 1
        except FrameTooLong:
            self.stats.too_long += 1
        except MalformedFrame:
            self.stats.malformed += 1
        else:
            self.stats.frames += 1
            return
        self.stats.discarded_bytes += len(candidate)

    def reset(self) -> None:
        """Drop any partial frame (after a reconnect the old bytes mean nothing)."""
        self._buf.clear()
        self._skipping = False

