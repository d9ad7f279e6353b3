"""Protocol v1, sans-I/O: headers, messages, framing. No serial, no asyncio, no threads.

See firmware/PROTOCOL.md for the byte-exact specification this package implements.
"""

from fleet.protocol.codec import decode_message, encode_error, encode_message
from fleet.error_codes import ErrorCode
from fleet.protocol.framing import DecoderStats, Frame, FrameDecoder, decode_frame, encode_frame
from fleet.protocol.header import PROTOCOL_VERSION, Flags, Header, MsgType
from fleet.protocol.messages import *  # noqa: F403 - the message set is this package's API
from fleet.protocol.messages import __all__ as _messages_all

__all__ = [
    "PROTOCOL_VERSION", "DecoderStats", "ErrorCode", "Flags", "Frame", "FrameDecoder", "Header", "MsgType",
    "decode_frame", "decode_message", "encode_error", "encode_frame", "encode_message", *_messages_all,
]  # fmt: skip
