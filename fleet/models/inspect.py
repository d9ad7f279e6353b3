"""Read what a .tflite model is made of, in pure Python: operators, tensors, size, work.

This is the inspection the deploy pre-flight and the virtual boards rely on, so it needs
neither TensorFlow nor tflite-micro, and it accepts any bytes: anything that is not a
well-formed TFLite flatbuffer is a `ModelError` that says so.

MACs (multiply-accumulates per inference) are counted from tensor shapes for the operators
that dominate TinyML models; every other operator counts 0:

- CONV_2D: output elements x kernel height x kernel width x input channels per group
- DEPTHWISE_CONV_2D: output elements x kernel height x kernel width
- TRANSPOSE_CONV: input elements x kernel height x kernel width x output channels
- FULLY_CONNECTED: output elements x input features
- AVERAGE_POOL_2D, MAX_POOL_2D: output elements x window height x window width
  (additions or comparisons rather than multiplies, counted alike because each costs about
  one MAC on a Cortex-M)
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from fleet.errors import ModelError
from fleet.models._schema_names import BUILTIN_OPS, TENSOR_TYPES
from fleet.models.flatbuf import Buffer, Table

FILE_IDENTIFIER = b"TFL3"
SCHEMA_VERSION = 3  # the only version TFLite and TFLM accept

_CUSTOM = BUILTIN_OPS.index("CUSTOM")
_POOL_OPS = ("AVERAGE_POOL_2D", "MAX_POOL_2D")


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """One model input or output as the interpreter sees it.

    `dtype` is the lower-case TFLite type name ("int8", "float32"), `type_code` the TFLite
    TensorType number. `scale` and `zero_point` are the first (per-tensor) quantization
    parameters; a tensor without quantization has scale 0.0 and zero point 0, as in TFLite.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    type_code: int
    scale: float
    zero_point: int

    @property
    def elements(self) -> int:
        """Number of values in the tensor (1 for a scalar)."""
        return math.prod(self.shape)

    @property
    def quantized(self) -> bool:
        return self.scale != 0.0


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Everything `inspect_model` reads from a model.

    `ops` maps operator names (custom operators by their custom name) to how many times
    they are used, in order of first use. Inputs and outputs are those of the main (first)
    subgraph, which is what an interpreter feeds and reads.
    """

    size: int
    sha256: str
    ops: dict[str, int]
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    macs: int
    subgraphs: int
    description: str


def inspect_model(data: bytes, *, name: str = "model") -> ModelInfo:
    """Parse a .tflite flatbuffer; `name` (usually the file name) prefixes error messages.

    Raises `ModelError` for anything that is not a complete, well-formed TFLite model.
    """
    data = bytes(data)
    if len(data) < 8 or data[4:8] != FILE_IDENTIFIER:
        raise ModelError(
            f"{name}: not a TFLite model (no {FILE_IDENTIFIER.decode()!r} file identifier in its first 8 bytes)",
            hint="expected a .tflite flatbuffer as written by the TFLite converter",
        )
    try:
        return _read(data)
    except ModelError as exc:
        raise ModelError(
            f"{name}: malformed TFLite model: {exc.message}",
            hint="the file may be truncated or corrupted; re-export it",
        ) from None


def read_model_file(path: str | Path) -> bytes:
    """A model file's bytes; an unreadable file is a `ModelError` naming the path."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read model: {exc.strerror or exc}") from None


def inspect_file(path: str | Path) -> ModelInfo:
    """`inspect_model` on a file; unreadable files are a `ModelError` naming the path."""
    return inspect_model(read_model_file(path), name=str(path))


def _read(data: bytes) -> ModelInfo:
    model = Buffer(data).root("Model")
    version = model.scalar(0, "I", 0, "version")
    if version != SCHEMA_VERSION:
        raise ModelError(f"schema version {version}; only version {SCHEMA_VERSION} is supported")
    opcodes = [_op_name(code) for code in model.tables(1, "operator_codes")]
    subgraphs = model.tables(2, "subgraphs")
    if not subgraphs:
        raise ModelError("the model has no subgraph")

    ops: dict[str, int] = {}
    macs = 0
    main_io: tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]] | None = None
    for sg_index, subgraph in enumerate(subgraphs):
        tensors = subgraph.tables(0, "tensors")
        shapes = [tuple(t.scalars(0, "i", "shape")) for t in tensors]
        for op_index, op in enumerate(subgraph.tables(3, "operators")):
            opcode = op.scalar(0, "I", 0, "opcode_index")
            if opcode >= len(opcodes):
                raise ModelError(
                    f"subgraph {sg_index} operator {op_index} uses operator code {opcode}, "
                    f"but the model defines {len(opcodes)}"
                )
            op_name = opcodes[opcode]
            ops[op_name] = ops.get(op_name, 0) + 1
            ins = [_shape_of(shapes, i, sg_index, op_index) for i in op.scalars(1, "i", "inputs")]
            outs = [_shape_of(shapes, i, sg_index, op_index) for i in op.scalars(2, "i", "outputs")]
            macs += _op_macs(op_name, op, ins, outs)
        if sg_index == 0:
            main_io = (
                _specs(tensors, subgraph.scalars(1, "i", "inputs"), "input"),
                _specs(tensors, subgraph.scalars(2, "i", "outputs"), "output"),
            )
    assert main_io is not None
    return ModelInfo(
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        ops=ops,
        inputs=main_io[0],
        outputs=main_io[1],
        macs=macs,
        subgraphs=len(subgraphs),
        description=model.string(3, "description") or "",
    )


def builtin_name(code: int) -> str:
    """The name `ModelInfo.ops` uses for builtin operator `code` (a newer schema's by number)."""
    if 0 <= code < len(BUILTIN_OPS):
        return BUILTIN_OPS[code]
    return f"BUILTIN_{code}"


def _op_name(code: Table) -> str:
    # Schema 3 moved builtin codes past 127 from the int8 `deprecated_builtin_code` to the
    # int32 `builtin_code`; writers fill both, older files only the first, so take the max.
    builtin = max(code.scalar(0, "b", 0, "deprecated_builtin_code"), code.scalar(3, "i", 0, "builtin_code"))
    if builtin == _CUSTOM:
        return code.string(1, "custom_code") or "CUSTOM"
    return builtin_name(builtin)


def _shape_of(shapes: list[tuple[int, ...]], index: int, sg: int, op: int) -> tuple[int, ...] | None:
    if index == -1:  # an omitted optional input (e.g. a bias)
        return None
    if not 0 <= index < len(shapes):
        raise ModelError(f"subgraph {sg} operator {op} refers to tensor {index}, but there are {len(shapes)}")
    return shapes[index]


def _op_macs(
    name: str, op: Table, ins: list[tuple[int, ...] | None], outs: list[tuple[int, ...] | None]
) -> int:
    out = _volume(outs[0]) if outs and outs[0] else 0
    if not out:
        return 0
    weights = ins[1] if len(ins) > 1 else None
    if name == "CONV_2D" and weights and len(weights) == 4:
        return out * weights[1] * weights[2] * weights[3]
    if name == "DEPTHWISE_CONV_2D" and weights and len(weights) == 4:
        return out * weights[1] * weights[2]
    if name == "FULLY_CONNECTED" and weights and len(weights) == 2:
        return out * weights[1]
    if name == "TRANSPOSE_CONV" and weights and len(weights) == 4 and len(ins) > 2 and ins[2]:
        return _volume(ins[2]) * weights[0] * weights[1] * weights[2]
    if name in _POOL_OPS:
        options = op.table(4, "builtin_options")
        if options is not None:
            width = options.scalar(3, "i", 0, "filter_width")
            height = options.scalar(4, "i", 0, "filter_height")
            return out * max(width, 0) * max(height, 0)
    return 0


def _volume(shape: tuple[int, ...]) -> int:
    # A dynamic dimension (-1, normally the batch) runs as 1 in an interpreter.
    return math.prod(d if d >= 0 else 1 for d in shape)


def _specs(tensors: list[Table], indices: tuple[int, ...], kind: str) -> tuple[TensorSpec, ...]:
    specs = []
    for index in indices:
        if not 0 <= index < len(tensors):
            raise ModelError(f"main subgraph {kind} refers to tensor {index}, but there are {len(tensors)}")
        tensor = tensors[index]
        type_code = tensor.scalar(1, "b", 0, "type")
        scale, zero_point = 0.0, 0
        quant = tensor.table(4, "quantization")
        if quant is not None:
            scales = quant.scalars(2, "f", "scale")
            zero_points = quant.scalars(3, "q", "zero_point")
            scale = float(scales[0]) if scales else 0.0
            zero_point = int(zero_points[0]) if zero_points else 0
        specs.append(
            TensorSpec(
                name=tensor.string(3, "name") or f"{kind}{len(specs)}",
                shape=tuple(tensor.scalars(0, "i", "shape")),
                dtype=_type_name(type_code),
                type_code=type_code,
                scale=scale,
                zero_point=zero_point,
            )
        )
    return tuple(specs)


def _type_name(code: int) -> str:
    return TENSOR_TYPES[code].lower() if 0 <= code < len(TENSOR_TYPES) else f"type{code}"
