"""Does a response fit the request it answers? Checks that need the request (or the board's
INFO), which decoding one payload alone cannot make: a BEGIN ack for another slot or an
offset beyond the model, a PONG that does not echo its PING, slots larger than INFO said.

The client calls `check_answer` for every response it matches to a request; an answer that
does not fit raises `FieldOutOfRange` and the client refuses the board. MODEL_ACKs are
checked by the uploader, which alone knows how many bytes it has sent.
"""

from __future__ import annotations

from fleet.errors import FieldOutOfRange
from fleet.protocol.limits import check_slots
from fleet.protocol.messages import BeginAck, CommitAck, Info, Message, ModelBegin, ModelCommit, Ping, Pong, SlotStatus


def check_answer(request: Message, response: Message, info: Info | None) -> None:
    """Raise FieldOutOfRange if `response` cannot be an honest answer to `request`."""
    if isinstance(response, BeginAck) and isinstance(request, ModelBegin):
        if response.slot != request.slot:
            raise FieldOutOfRange("BeginAck", "slot", response.slot, f"MODEL_BEGIN asked for slot {request.slot}")
        if response.offset > request.size:
            raise FieldOutOfRange("BeginAck", "offset", response.offset, f"the model has only {request.size} bytes")
    elif isinstance(response, CommitAck) and isinstance(request, ModelCommit):
        if response.slot != request.slot:
            raise FieldOutOfRange("CommitAck", "slot", response.slot, f"MODEL_COMMIT asked for slot {request.slot}")
    elif isinstance(response, Pong) and isinstance(request, Ping):
        if response.data != request.data:
            raise FieldOutOfRange("Pong", "data", f"{len(response.data)} bytes",
                                  f"not the {len(request.data)} bytes of the PING it answers")  # fmt: skip
    elif isinstance(response, SlotStatus) and info is not None:
        check_slots(type(response).__name__, response.active_slot, response.slots, info.slot_bytes)
