"""Run a model in the TFLite Micro host interpreter: what virtual boards and parity tests use.

The arena is checked before TFLM sees it: an arena smaller than the model needs can crash
the whole process inside TFLM rather than raise, so a runner refuses it up front with
`ArenaTooSmall`, which is also what a real board answers at test-load.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from fleet.errors import ArenaTooSmall, ModelError, ModelToolMissing
from fleet.models.arena import measure_arena
from fleet.models.inputs import numpy_dtype
from fleet.models.inspect import TensorSpec, inspect_model


class TflmRunner:
    """One model loaded in TFLM with an `arena_size`-byte tensor arena.

    `run` takes one array per model input (shape and dtype of the input; see
    `fleet.models.inputs`) and returns a copy of the first output.
    """

    def __init__(self, data: bytes, arena_size: int) -> None:
        if importlib.util.find_spec("tflite_micro") is None:
            raise ModelToolMissing(
                "running models needs the TFLite Micro host interpreter (tflite-micro)",
                hint="pip install 'fleet[sim]'",
            )
        self.info = inspect_model(data)
        self.arena_size = arena_size
        self.arena_needed = measure_arena(data)
        if arena_size < self.arena_needed:
            raise ArenaTooSmall(
                f"the model needs a {self.arena_needed}-byte tensor arena, only {arena_size} bytes given",
                needed=self.arena_needed,
                given=arena_size,
            )
        from tflite_micro import runtime

        try:
            self._interpreter = runtime.Interpreter.from_bytes(bytes(data), arena_size=arena_size)
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"TFLM could not load the model: {exc}") from None
        self._dtypes = [numpy_dtype(spec) for spec in self.info.inputs]

    @property
    def inputs(self) -> tuple[TensorSpec, ...]:
        return self.info.inputs

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return self.info.outputs

    @property
    def input(self) -> TensorSpec:
        """The first (usually only) input."""
        return self.info.inputs[0]

    @property
    def output(self) -> TensorSpec:
        """The first (usually only) output, the one `run` returns."""
        return self.info.outputs[0]

    def run(self, *inputs: np.ndarray) -> np.ndarray:
        """Invoke once on `inputs` (one array per model input); returns the first output."""
        if len(inputs) != len(self.info.inputs):
            raise ModelError(f"the model takes {len(self.info.inputs)} inputs, {len(inputs)} given")
        for index, (array, spec, dtype) in enumerate(zip(inputs, self.info.inputs, self._dtypes, strict=True)):
            array = np.asarray(array)
            if array.dtype != dtype or array.size != spec.elements:
                raise ModelError(
                    f"input {index} ({spec.name!r}) takes {spec.dtype}{list(spec.shape)}, "
                    f"got {array.dtype}{list(array.shape)}"
                )
            self._interpreter.set_input(array.reshape(spec.shape), index)
        try:
            self._interpreter.invoke()
        except RuntimeError as exc:
            raise ModelError(f"TFLM inference failed: {exc}") from None
        return np.array(self._interpreter.get_output(0), copy=True)
