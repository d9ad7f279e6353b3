"""A minimal host for the firmware tests: requests, responses and events over a serial
port, on the test hosts' codec (tests/support/hosts.py; the full client lives in
fleet/client.py; these tests check the firmware, so they keep their own small, explicit driver).
Every wait ends when what it waits for has come; its deadline (`DEADLINE_S`) is only for
a board that never sends it, so it is generous enough for an emulated board on a loaded machine."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from tests.support.sim import require_sim

require_sim()  # numpy for the input sequence, TFLM for the reference outputs

import numpy as np  # noqa: E402
import serial  # noqa: E402

from fleet.protocol import (
    ActivateMode, Error, Frame, Hello, InferResult, Info, Message, ModelActivate, ModelBegin, ModelChunk, ModelCommit,
    ModelConfirm, SlotState,
)  # fmt: skip
from tests.support.hosts import HostCodec  # noqa: E402
from tests.support.wait import DEADLINE_S  # noqa: E402


class BoardError(Exception):
    """An ERROR response: the code, detail and text the board sent."""

    def __init__(self, error: Error) -> None:
        super().__init__(f"board error {error.code} (detail {error.detail}): {error.text}")
        self.code, self.detail, self.text = error.code, error.detail, error.text


@dataclass
class BoardLink:
    """One open serial session with a board."""

    port: serial.Serial
    codec: HostCodec = field(default_factory=HostCodec)
    events: list[tuple[Frame, Message]] = field(default_factory=list)
    responses: dict[int, tuple[Frame, Message]] = field(default_factory=dict)

    @classmethod
    def open(cls, path: str, baud: int = 115200) -> BoardLink:
        link = cls(serial.Serial(path, baud, timeout=0.05))
        link.port.write(b"\x00")  # terminate any half frame the board holds
        return link

    def close(self) -> None:
        self.port.close()

    def send(self, msg: Message) -> int:
        seq, frame = self.codec.encode(msg)
        self.port.write(frame)
        return seq

    def pump(self, timeout: float = 0.05) -> None:
        """Read what has arrived and sort it into responses and events."""
        self.port.timeout = timeout
        data = self.port.read(max(1, self.port.in_waiting))
        for frame, msg in self.codec.decode(data):
            if frame.header.is_response:
                self.responses[frame.header.seq] = (frame, msg)
            else:
                self.events.append((frame, msg))

    def wait(self, seq: int, timeout: float = DEADLINE_S) -> Message:
        """The response to request `seq`; raises BoardError for an error response."""
        deadline = time.monotonic() + timeout
        while seq not in self.responses:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no response to seq {seq} within {timeout} s")
            self.pump()
        _, msg = self.responses.pop(seq)
        if isinstance(msg, Error):
            raise BoardError(msg)
        return msg

    def request(self, msg: Message, timeout: float = DEADLINE_S) -> Message:
        return self.wait(self.send(msg), timeout)

    def hello(self) -> Info:
        info = self.request(Hello(1, 4096))
        assert isinstance(info, Info)
        return info

    def data_piece(self) -> int:
        """The most model bytes one MODEL_CHUNK or MODEL_DATA carries: max_payload less the offset."""
        return self.hello().max_payload - 4

    def take_events(self, kind: type, count: int, timeout: float = DEADLINE_S) -> list:
        """Wait for `count` events of class `kind`; returns and removes them."""
        deadline = time.monotonic() + timeout
        while sum(isinstance(m, kind) for _, m in self.events) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} {kind.__name__} events did not arrive within {timeout} s")
            self.pump()
        picked = [m for _, m in self.events if isinstance(m, kind)][:count]
        self.events = [(f, m) for f, m in self.events if not (isinstance(m, kind) and m in picked)]
        return picked

    def send_chunks(self, model: bytes, start: int, chunk: int, window: int, stop_at: int | None = None) -> int:
        """Pipelined MODEL_CHUNKs from `start`, at most `window` bytes unacknowledged,
        go-back-N on an ACK that does not advance. Stops once `stop_at` bytes are
        acknowledged (to simulate a host that goes away). Returns the acked offset."""
        end = len(model) if stop_at is None else min(stop_at, len(model))
        acked = sent = start
        outstanding: list[int] = []
        while acked < end:
            while sent < end and sent + min(chunk, end - sent) - acked <= window:
                n = min(chunk, end - sent)
                outstanding.append(self.send(ModelChunk(sent, model[sent : sent + n])))
                sent += n
            ack = self.wait(outstanding.pop(0)).next_offset
            if ack <= acked and not outstanding and ack < sent:
                sent = ack  # nothing advanced and nothing in flight: resend
            acked = max(acked, ack)
        for seq in outstanding:
            acked = max(acked, self.wait(seq).next_offset)
        return acked

    def upload(self, model: bytes, slot: int, name: str = "model", version: str = "1") -> int:
        """BEGIN (resuming where the board is), chunks, COMMIT; returns arena_used."""
        info = self.hello()
        begin = self.request(ModelBegin(slot, len(model), hashlib.sha256(model).digest(), name, version))
        self.send_chunks(model, begin.offset, info.max_payload - 4, info.rx_window)
        return self.request(ModelCommit(slot)).arena_used


def input_vector(input_id: int, shape, dtype=np.int8) -> np.ndarray:
    """The board's input sequence (firmware/runner/fw_input.h): element i of input k is
    v = ((k + 31*i) mod 256) - 128 as int8; other types widen it exactly: uint8 v + 128,
    int16 v * 256, int32 v, float32 v / 128."""
    n = int(np.prod(shape))
    v = (((input_id + 31 * np.arange(n, dtype=np.int64)) & 0xFF) - 128).reshape(shape)
    dtype = np.dtype(dtype)
    widened = {"int8": v, "uint8": v + 128, "int16": v * 256, "int32": v, "float32": v / 128.0}
    if dtype.name not in widened:
        raise ValueError(f"the board's input sequence has no {dtype.name} values")
    return widened[dtype.name].astype(dtype)


def tflm_outputs(model: bytes, input_ids) -> dict[int, bytes]:
    """Output tensor bytes of the TFLM host interpreter for each input id, invoked in the
    order given on one interpreter (as a board runs them: stateful models see the same
    history). Every model input gets the sequence."""
    from tflite_micro import runtime

    from fleet.models.inspect import inspect_model

    interp = runtime.Interpreter.from_bytes(model)
    details = [interp.get_input_details(i) for i in range(len(inspect_model(model).inputs))]
    out = {}
    for k in input_ids:
        for index, d in enumerate(details):
            interp.set_input(input_vector(k, d["shape"], d["dtype"]), index)
        interp.invoke()
        out[k] = interp.get_output(0).tobytes()
    return out


def deploy(link: BoardLink, model: bytes, slot: int, confirm: bool = True):
    """Upload, activate on trial and (unless `confirm` is false) confirm; the last STATUS."""
    link.upload(model, slot)
    status = link.request(ModelActivate(slot, ActivateMode.TEST))
    assert status.active_slot == slot and status.slots[slot].state == SlotState.PENDING
    if confirm:
        status = link.request(ModelConfirm(slot))
        assert status.slots[slot].state == SlotState.ACTIVE
    return status


def check_results(link: BoardLink, model: bytes, count: int = 20, expected=tflm_outputs,
                  counts_from_boot: bool = True) -> list[InferResult]:  # fmt: skip
    """`count` streamed results, each equal to what `expected(model, input_ids)` gives for
    its input id (default: the TFLM host interpreter on the firmware's input sequence).
    With `counts_from_boot`, inference_count = input_id + 1 (the firmware's input ids count
    inferences since boot)."""
    results = link.take_events(InferResult, count, timeout=max(DEADLINE_S, count * 0.5))
    want = expected(model, [r.input_id for r in results])
    for r in results:
        assert r.model_prefix == hashlib.sha256(model).digest()[:4]
        assert r.dtype == 9 and r.format == 0
        assert r.data == want[r.input_id], f"input {r.input_id}"
        assert not counts_from_boot or r.inference_count == r.input_id + 1
    return results
