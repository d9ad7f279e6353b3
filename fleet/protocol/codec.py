"""Messages to frames and back: the one place that joins header flags to message classes."""

from __future__ import annotations

from fleet.errors import UnknownMessageType, UnsupportedVersion
from fleet.protocol.framing import Frame, encode_frame
from fleet.protocol.header import PROTOCOL_VERSION, Flags
from fleet.protocol.messages import EVENTS, REQUESTS, RESPONSES, Error, Kind, Message


def encode_message(msg: Message, seq: int) -> bytes:
    """Frame a request, response or event (not an Error: use `encode_error`)."""
    if isinstance(msg, Error):
        raise TypeError("an Error answers a request: use encode_error(error, request_type, seq)")
    flags = Flags.RESPONSE if msg.KIND is Kind.RESPONSE else Flags.NONE
    return encode_frame(msg.TYPE, seq, flags, msg.encode())


def encode_error(error: Error, request_type: int, seq: int) -> bytes:
    """Frame an ERROR response to the request of `request_type` with sequence `seq`."""
    return encode_frame(request_type, seq, Flags.RESPONSE | Flags.ERROR, error.encode())


def decode_message(frame: Frame) -> Message:
    """Decode a frame's payload into its message.

    Raises UnsupportedVersion, UnknownMessageType or MalformedMessage.
    """
    header = frame.header
    if header.version != PROTOCOL_VERSION:
        raise UnsupportedVersion(f"frame has protocol version {header.version}, this host speaks {PROTOCOL_VERSION}")
    if header.is_response:
        if header.is_error:
            return Error.decode(frame.payload)
        table, direction = RESPONSES, "response"
    elif header.type in EVENTS:
        table, direction = EVENTS, "event"
    else:
        table, direction = REQUESTS, "request"
    cls = table.get(header.type)
    if cls is None:
        raise UnknownMessageType(f"no {direction} with message type 0x{header.type:02x} in protocol v1")
    return cls.decode(frame.payload)
