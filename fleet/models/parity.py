"""Parity: the same inputs through TFLM (what boards run) and the TFLite reference kernels.

The reference is ai-edge-litert's interpreter with `OpResolverType.BUILTIN_REF`: the
straightforward reference kernels, not the optimized ones, so differences come from TFLM's
own kernels rather than from optimization shortcuts. Inputs come from `input_stream`, so a
run is reproducible from its seed. Outputs are compared as stored (int8 for quantized
models): the difference is in LSB of the output tensor.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from fleet.errors import ModelError
from fleet.models._tf import litert_interpreter
from fleet.models.arena import measure_arena
from fleet.models.flatbuf import Buffer
from fleet.models.inputs import input_stream, numpy_dtype
from fleet.models.manifest import Manifest
from fleet.models.tflm_runner import TflmRunner


@dataclass(frozen=True, slots=True)
class ParityResult:
    """How far TFLM's outputs are from the reference kernels' over `inputs` inputs.

    `max_abs_diff` is in output LSB for integer outputs (`integer_output`), in output units
    otherwise; `differing_inputs` counts inputs whose outputs were not identical.
    """

    sha256: str
    inputs: int
    max_abs_diff: float
    differing_inputs: int
    integer_output: bool


def compare_with_reference(
    data: bytes, *, inputs: int = 256, seed: int = 0, manifest: Manifest | None = None
) -> ParityResult:
    """Run `inputs` inputs from `input_stream(seed)` through both interpreters and compare."""
    runner = TflmRunner(data, measure_arena(data))
    reference = _reference(data)
    input_index = reference.get_input_details()[0]["index"]
    output_index = reference.get_output_details()[0]["index"]
    max_diff = 0.0
    differing = 0
    for _, array in itertools.islice(input_stream(runner.info, seed, manifest), inputs):
        ours = runner.run(array)
        reference.set_tensor(input_index, array)
        reference.invoke()
        theirs = reference.get_tensor(output_index)
        diff = float(np.max(np.abs(ours.astype(np.float64) - theirs.astype(np.float64))))
        max_diff = max(max_diff, diff)
        differing += diff > 0
    return ParityResult(
        sha256=runner.info.sha256,
        inputs=inputs,
        max_abs_diff=max_diff,
        differing_inputs=differing,
        integer_output=bool(np.issubdtype(numpy_dtype(runner.output), np.integer)),
    )


def _reference(data: bytes):  # -> ai_edge_litert.interpreter.Interpreter
    interpreter = litert_interpreter()
    try:
        reference = interpreter.Interpreter(
            model_content=_fix_quantized_dimension(data),
            experimental_op_resolver_type=interpreter.OpResolverType.BUILTIN_REF,
        )
        reference.allocate_tensors()
    except (RuntimeError, ValueError) as exc:
        detail = " ".join(str(exc).split())[:300]  # LiteRT's messages span lines and repeat
        raise ModelError(f"the TFLite reference interpreter cannot load the model: {detail}") from None
    if len(reference.get_input_details()) != 1:
        raise ModelError("parity compares single-input models")
    return reference


def _fix_quantized_dimension(data: bytes) -> bytes:
    """A copy of the model whose quantized_dimension fields are all within their tensor's rank.

    Old TOCO-converted models (person_detect) store quantized_dimension 3 on rank-1
    per-channel bias tensors. The only axis a rank-1 tensor has is 0, and TFLM never reads
    the field for biases, but LiteRT rejects the model ("quantized_dimension must be in
    range [0, 1)"). Setting it to 0 changes no arithmetic and lets the reference load the
    model TFLM runs.
    """
    patched = bytearray(data)
    for subgraph in Buffer(data).root("Model").tables(2, "subgraphs"):
        for tensor in subgraph.tables(0, "tensors"):
            quant = tensor.table(4, "quantization")
            position = quant.field_position(6) if quant is not None else None
            if position is None:
                continue
            rank = len(tensor.scalars(0, "i", "shape"))
            single_scale = len(quant.scalars(2, "f", "scale")) <= 1
            if quant.scalar(6, "i", 0, "quantized_dimension") >= rank and (rank == 1 or single_scale):
                patched[position : position + 4] = (0).to_bytes(4, "little")
    return bytes(patched)
