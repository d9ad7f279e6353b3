"""Requests from the host to their handlers, in order: a virtual board's request dispatch.

Frames are decoded as bytes arrive and queued; the engine takes them one at a time
(`handle`), which checks the protocol version, decodes the request and calls the handler of
its type. A handler answers with a message, raises `Refusal` (an ERROR response), or
returns None: the request is parked (`parked`) until slow work finishes and the engine
answers it (`answer_parked`). Handler bugs are answered INTERNAL and logged, never allowed
to kill the board.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from fleet.error_codes import ErrorCode
from fleet.errors import MalformedMessage
from fleet.protocol import PROTOCOL_VERSION, REQUESTS, Frame, FrameDecoder, Header, Message
from fleet.sim.refusal import Refusal

if TYPE_CHECKING:
    from fleet.sim.engine import BoardStats

log = logging.getLogger(__name__)

Handler = Callable[[Message], Message | None]


class RequestDispatcher:
    """Decodes, queues and dispatches one board's requests; see the module doc."""

    def __init__(
        self,
        max_payload: int,
        handlers: dict[int, Handler],
        respond: Callable[[Header, Message], None],
        error: Callable[[Header, Refusal], None],
        stats: BoardStats,
        board: str,
    ) -> None:
        self.decoder = FrameDecoder(max_payload)
        self.handlers = handlers
        self.respond = respond
        self.error = error
        self.stats = stats
        self.board = board  # for the log
        self.queue: deque[Frame] = deque()
        self.parked: Header | None = None  # the request waiting for slow work

    def feed(self, data: bytes) -> None:
        """Bytes from the host: queue every frame they complete."""
        self.queue.extend(self.decoder.feed(data))

    def reset(self) -> None:
        """A reset: half-received frames, queued and parked requests are lost."""
        self.decoder.reset()
        self.queue.clear()
        self.parked = None

    def answer_parked(self, answer: Message | Refusal) -> None:
        """Answer the parked request now: a response, or a `Refusal` (its ERROR response)."""
        header, self.parked = self.parked, None
        assert header is not None
        if isinstance(answer, Refusal):
            self.error(header, answer)
        else:
            self.respond(header, answer)

    def handle(self, frame: Frame) -> None:
        header = frame.header
        if header.version != PROTOCOL_VERSION:
            self.error(header, Refusal(ErrorCode.UNSUPPORTED_VERSION, f"this board speaks protocol "
                                       f"{PROTOCOL_VERSION}, not {header.version}", PROTOCOL_VERSION))  # fmt: skip
            return
        if header.is_response:
            self.stats.ignored += 1  # nothing here waits for responses
            return
        self.stats.requests += 1
        cls = REQUESTS.get(header.type)
        if cls is None:
            self.error(header, Refusal(ErrorCode.UNKNOWN_TYPE, f"no request type 0x{header.type:02x}", header.type))
            return
        try:
            request = cls.decode(frame.payload)
        except MalformedMessage as exc:
            self.error(header, Refusal(ErrorCode.BAD_PAYLOAD, str(exc)))
            return
        try:
            response = self.handlers[header.type](request)
        except Refusal as refusal:
            self.error(header, refusal)
            return
        except Exception:  # a bug here must not kill the board: answer, log, carry on
            log.exception("virtual board %s: request 0x%02x failed", self.board, header.type)
            self.error(header, Refusal(ErrorCode.INTERNAL, "internal error"))
            return
        if response is None:  # parked until the engine finishes the work
            self.parked = header
        else:
            self.respond(header, response)
