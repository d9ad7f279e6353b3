"""A virtual board's side of encoded uploads (PROTOCOL.md section 10): MODEL_STREAM opens a
stream into the receiving slot, MODEL_DATA feeds it.

The open stream and its decoder are RAM state: a reset, a MODEL_BEGIN, a plain chunk or a
COMMIT closes it. What survives is the slot's `received` count, which the decoder moves only
to block ends, so a stream reopened after any of those resumes from a block boundary. A
complete block's bytes are appended to the slot's data file (the same contiguous write a
plain chunk does), so the slot store needs nothing new.
"""

from __future__ import annotations

from fleet.error_codes import ErrorCode
from fleet.errors import StreamDecodeError
from fleet.protocol import ENCODING_BLOCKS, NO_SLOT, Capability, DataAck, ModelData, ModelStream, SlotState, StreamAck
from fleet.sim.refusal import Refusal
from fleet.sim.slots import SlotStore
from fleet.upload_codec import StreamDecoder

_BASE_STATES = (SlotState.VALID, SlotState.PENDING, SlotState.ACTIVE)


class EncodedUpload:
    """MODEL_STREAM / MODEL_DATA handling for one board with `capabilities` (INFO's bits)."""

    def __init__(self, store: SlotStore, capabilities: int) -> None:
        self.store = store
        self.capabilities = capabilities
        self._decoder: StreamDecoder | None = None

    def close(self) -> None:
        """Forget the open stream (the slot keeps every complete block)."""
        self._decoder = None

    def open(self, request: ModelStream) -> StreamAck:
        self._require(Capability.DEFLATE, "MODEL_STREAM")
        self.close()
        index = self.store.receiving
        if index is None:
            raise Refusal(ErrorCode.NO_UPLOAD, "no upload in progress: send MODEL_BEGIN first")
        if request.encoding != ENCODING_BLOCKS:
            raise Refusal(ErrorCode.BAD_PAYLOAD, f"encoding {request.encoding}; this board decodes {ENCODING_BLOCKS}",
                          request.encoding)  # fmt: skip
        base = self._base(request, index)
        slot = self.store.slots[index]
        held = self.store.read(index)
        self._decoder = StreamDecoder(slot.received, slot.size, held, self._write, base)
        return StreamAck(slot.received)

    def data(self, request: ModelData) -> DataAck:
        self._require(Capability.DEFLATE, "MODEL_DATA")
        decoder = self._decoder
        if decoder is None:
            raise Refusal(ErrorCode.NO_UPLOAD, "no encoded stream open: send MODEL_STREAM first")
        if not request.data:
            raise Refusal(ErrorCode.BAD_PAYLOAD, "empty data")
        if request.offset == decoder.position:
            try:
                decoder.feed(request.data)
            except StreamDecodeError as exc:
                self.close()
                raise Refusal(ErrorCode.DECODE_FAILED, exc.reason, exc.block_start) from None
            except Refusal:  # the slot refused a block (STORAGE): the stream cannot go on
                self.close()
                raise
        # offset < position: a retransmission already decoded; offset > position: a gap.
        # Either way the cumulative ACK tells the host where to continue.
        return DataAck(decoder.position, decoder.received)

    def _base(self, request: ModelStream, receiving: int) -> bytes | None:
        if request.base_slot == NO_SLOT:
            return None
        if request.base_slot not in (0, 1):
            raise Refusal(ErrorCode.BAD_PAYLOAD, f"base slot {request.base_slot}: 0, 1 or 0xFF", request.base_slot)
        if not self.capabilities & Capability.DELTA:
            raise Refusal(ErrorCode.BAD_PAYLOAD, "this board takes no base (no DELTA capability)", request.base_slot)
        base = self.store.slots[request.base_slot]
        if request.base_slot == receiving or base.state not in _BASE_STATES:
            raise Refusal(ErrorCode.BASE_MISMATCH, f"slot {request.base_slot} is {base.state.name}, not a model to copy from",
                          request.base_slot)  # fmt: skip
        if base.sha256 != request.base_sha256:
            raise Refusal(ErrorCode.BASE_MISMATCH, f"slot {request.base_slot} holds {base.sha256.hex()[:8]}, "
                          f"not {request.base_sha256.hex()[:8]}", request.base_slot)  # fmt: skip
        return self.store.read(request.base_slot)

    def _write(self, offset: int, data: bytes) -> None:
        _, received = self.store.write(offset, data)
        if received != offset + len(data):  # the decoder and the slot disagree: a bug, not the host's fault
            raise Refusal(ErrorCode.INTERNAL, f"block at {offset} not stored (slot holds {received} bytes)")

    def _require(self, capability: Capability, what: str) -> None:
        if not self.capabilities & capability:
            raise Refusal(ErrorCode.UNKNOWN_TYPE, f"{what}: this board has no {capability.name} capability")
