"""Child process for `fleet.models.host_ops`: which operators the TFLM host interpreter registers.

Run as `python -m fleet.models._op_probe NAME...` (builtin operator names as in
`fleet.models._schema_names.BUILTIN_OPS`, anything else a custom operator name). Prints one
JSON line: `{"registered": [...], "sentinel": ..., "version": tflite_micro.__version__}`.

How, without running any kernel: for each candidate X it loads a two-operator model
[X, S] where S is a builtin the interpreter does not register (the sentinel). TFLM looks
up every operator's registration before it initialises any, and stops at the first it
cannot find, saying which on the C-level stderr (fd 2, pointed at a temporary file here).
If that message names S, X was found. The tensors are empty: nothing ever runs.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile

# Deprecated or placeholder builtins no interpreter should register; the first one the
# host interpreter indeed lacks is the sentinel.
_SENTINELS = ("CALL", "DELEGATE", "PLACEHOLDER_FOR_GREATER_OP_CODES")
_MISSING = re.compile(rb"Didn't find op for builtin opcode '([^']*)'")


def main(names: list[str]) -> int:
    import flatbuffers
    import tflite_micro
    from tflite_micro import runtime
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    from fleet.models._schema_names import BUILTIN_OPS

    log = tempfile.TemporaryFile()
    os.dup2(log.fileno(), 2)

    def opcode(name: str) -> object:
        code = schema.OperatorCodeT()
        if name in BUILTIN_OPS:
            code.builtinCode = BUILTIN_OPS.index(name)
        else:
            code.builtinCode = BUILTIN_OPS.index("CUSTOM")
            code.customCode = name
        code.deprecatedBuiltinCode = min(code.builtinCode, 127)
        code.version = 1
        return code

    def operator(index: int, name: str) -> object:
        op = schema.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = index, [], []
        if name == "VAR_HANDLE":  # the Python wrapper reads its options before TFLM sees the model
            op.builtinOptionsType = schema.BuiltinOptions.VarHandleOptions
            op.builtinOptions = schema.VarHandleOptionsT()
            op.builtinOptions.sharedName = "probe"
        return op

    def load(*ops: str) -> bytes:
        model = schema.ModelT()
        model.version = 3
        model.operatorCodes = [opcode(name) for name in ops]
        subgraph = schema.SubGraphT()
        subgraph.tensors, subgraph.inputs, subgraph.outputs = [], [], []
        subgraph.operators = [operator(i, name) for i, name in enumerate(ops)]
        model.subgraphs, model.buffers = [subgraph], [schema.BufferT()]
        builder = flatbuffers.Builder(256)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        log.seek(0)
        log.truncate()
        try:
            runtime.Interpreter.from_bytes(bytes(builder.Output()), arena_size=4096)
        except Exception:  # noqa: BLE001 - every probe fails to allocate; the log says where
            pass
        log.seek(0)
        return log.read()

    sentinel = printed = None
    for candidate in _SENTINELS:
        match = _MISSING.search(load(candidate))
        if match:
            sentinel, printed = candidate, match.group(0)
            break
    if sentinel is None:
        print(json.dumps({"error": f"the interpreter registers every sentinel ({', '.join(_SENTINELS)})"}))
        return 1
    registered = [name for name in names if name != sentinel and printed in load(name, sentinel)]
    print(json.dumps({"registered": registered, "sentinel": sentinel, "version": tflite_micro.__version__}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
