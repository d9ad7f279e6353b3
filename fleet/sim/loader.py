"""Test-loading and running models the way the firmware does, on a board profile.

`ModelLoader.check` is the COMMIT test-load: a TFLite flatbuffer (`MODEL_INVALID`), every
operator in the profile's kernel set (`OP_UNSUPPORTED`), and the tensor arena within the
profile's limit (`ARENA_TOO_SMALL`, detail = bytes needed). The arena is measured by
`fleet.models.arena.measure_arena` in a child process, never here, because TFLM can kill
its process on a too-small arena; the interpreter is then created with exactly that
arena. `check` can take a moment the first time a model is seen (the measurement is
cached on disk by sha256), so the engine runs it off the event loop.

`ModelLoader.load` reloads a model already checked (at boot or activation), reusing the
arena figure stored with the slot.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from fleet.error_codes import ErrorCode
from fleet.errors import ModelError
from fleet.models.arena import measure_arena
from fleet.models.inputs import input_stream, numpy_dtype
from fleet.models.inspect import ModelInfo, inspect_model
from fleet.models.tflm_runner import TflmRunner
from fleet.profiles import Profile
from fleet.protocol import MODEL_PREFIX_SIZE, OutputFormat
from fleet.sim.refusal import Refusal

# Fixed cost of one invoke beyond its MACs (interpreter dispatch, input copy, output read).
INVOKE_OVERHEAD_US = 50
# A board replays a recorded sensor loop: the first inputs of its stream, at most this many
# and at most this many bytes of them, again and again. Generating an input costs more host
# CPU than invoking a small model, and 32 boards at 200 inferences/s cannot afford it.
INPUT_LOOP_LENGTH = 256
INPUT_LOOP_BYTES = 64 * 1024


def latency_us(macs: int, profile: Profile, overhead_us: int = INVOKE_OVERHEAD_US) -> int:
    """Simulated invoke time: macs / (cpu_hz * macs_per_cycle) seconds, plus a fixed overhead."""
    return round(macs / (profile.cpu_hz * profile.macs_per_cycle) * 1e6) + overhead_us


@dataclass(slots=True)
class LoadedModel:
    """A model in a running interpreter, with its input sequence and simulated latency."""

    info: ModelInfo
    sha256: bytes
    arena_used: int
    latency_us: int
    runner: TflmRunner
    seed: int
    inputs: InputLoop = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.inputs = InputLoop(self.info, self.seed)

    @property
    def prefix(self) -> bytes:
        return self.sha256[:MODEL_PREFIX_SIZE]

    def restart_inputs(self) -> None:
        """Start the input sequence over (a model starts from input 0 whenever it starts running)."""
        self.inputs.restart()

    def infer(self) -> tuple[int, np.ndarray]:
        """Run the next input; returns (input_id, output tensor)."""
        input_id, value = self.inputs.next()
        return input_id, self.runner.run(value)


class InputLoop:
    """The board's sensor loop: `input_stream(info, seed)` up to `length` inputs, repeated.

    Input ids keep counting past the loop, as a board's input counter does; input `n`
    is stream input `n % length`. Inputs are generated the first time they are needed.
    """

    def __init__(self, info: ModelInfo, seed: int) -> None:
        self._stream: Iterator[tuple[int, np.ndarray]] = input_stream(info, seed)
        spec = info.inputs[0]
        item_bytes = spec.elements * numpy_dtype(spec).itemsize
        self.length = max(1, min(INPUT_LOOP_LENGTH, INPUT_LOOP_BYTES // max(1, item_bytes)))
        self._seen: list[np.ndarray] = []
        self._next_id = 0

    def restart(self) -> None:
        self._next_id = 0

    def next(self) -> tuple[int, np.ndarray]:
        """The next `(input_id, array)`."""
        input_id = self._next_id
        self._next_id += 1
        index = input_id % self.length
        if index == len(self._seen):
            self._seen.append(next(self._stream)[1])
        return input_id, self._seen[index]


class ModelLoader:
    """Test-loads and loads models for one board profile."""

    def __init__(self, profile: Profile, *, seed: int = 0, overhead_us: int = INVOKE_OVERHEAD_US) -> None:
        self.profile = profile
        self.seed = seed
        self.overhead_us = overhead_us

    def check(self, data: bytes) -> LoadedModel:
        """The COMMIT test-load. Raises Refusal with the firmware's error code."""
        info = self._inspect(data)
        unsupported = [op for op in info.ops if not self.profile.supports(op)]
        if unsupported:
            raise Refusal(ErrorCode.OP_UNSUPPORTED, ", ".join(unsupported))
        try:
            needed = measure_arena(data)
        except ModelError as exc:
            raise Refusal(ErrorCode.MODEL_INVALID, _short(str(exc))) from None
        if needed > self.profile.arena_bytes:
            raise Refusal(ErrorCode.ARENA_TOO_SMALL, f"model needs {needed} B of arena, board has "
                          f"{self.profile.arena_bytes} B", needed)  # fmt: skip
        return self._start(data, info, needed)

    def load(self, data: bytes, arena_used: int) -> LoadedModel:
        """Load a model that passed `check` before (its slot keeps the arena figure)."""
        return self._start(data, self._inspect(data), arena_used)

    def _start(self, data: bytes, info: ModelInfo, arena: int) -> LoadedModel:
        try:
            runner = TflmRunner(data, arena)
            next(input_stream(info, self.seed))  # a model the board cannot feed does not load
        except (ModelError, RuntimeError, ValueError) as exc:
            raise Refusal(ErrorCode.MODEL_INVALID, _short(f"interpreter refused the model: {exc}")) from None
        return LoadedModel(info, hashlib.sha256(data).digest(), arena, latency_us(info.macs, self.profile,
                           self.overhead_us), runner, self.seed)  # fmt: skip

    @staticmethod
    def _inspect(data: bytes) -> ModelInfo:
        try:
            return inspect_model(data)
        except ModelError as exc:
            raise Refusal(ErrorCode.MODEL_INVALID, _short(str(exc))) from None


def encode_output(output: np.ndarray, top_k: int) -> tuple[int, bytes]:
    """INFER_RESULT `format` and `data`: the raw tensor, or the k largest (u16 index, element)."""
    flat = np.ascontiguousarray(output).reshape(-1)
    flat = flat.astype(flat.dtype.newbyteorder("<"), copy=False)
    if top_k <= 0:
        return OutputFormat.RAW, flat.tobytes()
    k = min(top_k, flat.size)
    # Largest first; equal values in index order, so the result is deterministic.
    order = np.lexsort((np.arange(flat.size), -flat.astype(np.float64)))[:k]
    return OutputFormat.TOPK, b"".join(struct.pack("<H", int(i)) + flat[i : i + 1].tobytes() for i in order)


def _short(text: str, limit: int = 200) -> str:
    """Error texts travel in one frame: keep them to a line."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
