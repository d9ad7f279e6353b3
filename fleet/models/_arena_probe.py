"""Child process for `fleet.models.arena`: loads one model in TFLM at arena sizes it is told.

Run as `python -m fleet.models._arena_probe MODEL_FILE INPUT_COUNT`. It answers one JSON line per
request line on stdin, so the parent keeps one process for a whole search and only starts
another when a probe kills this one (TFLM can SIGSEGV on a too-small arena):

- `probe N`: create an interpreter with an N-byte arena, invoke it once on zero inputs;
  answers `{"ok": true}` or `{"ok": false, "error": ..., "log": ...}`.
- `total N`: the same, then `print_allocations()`; answers `{"ok": true, "total": T}` with
  the "Arena allocation total" TFLM printed.

A model TFLM's Python side cannot read at all (a damaged file: an offset past the end, a
negative count) answers `{"ok": false, "unreadable": true, "error": ...}`: no arena helps.

TFLM reports why it failed on the C-level stderr (fd 2), not in the exception, so fd 2 is
pointed at a temporary file and each answer carries what the probe wrote there. Python's
own `sys.stderr` keeps the real stderr, so a traceback still reaches the parent.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile

_TOTAL = re.compile(rb"Arena allocation total (\d+) bytes")


def main(model_path: str, inputs: int) -> int:
    import numpy as np
    from tflite_micro import runtime

    with open(model_path, "rb") as f:
        model = f.read()
    log = tempfile.TemporaryFile()
    sys.stderr = os.fdopen(os.dup(2), "w", buffering=1)
    os.dup2(log.fileno(), 2)

    def captured() -> bytes:
        log.seek(0)
        text = log.read()
        log.seek(0)
        log.truncate()
        return text

    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        size = int(arg)
        captured()
        try:
            interpreter = runtime.Interpreter.from_bytes(model, arena_size=size)
            for index in range(inputs):
                details = interpreter.get_input_details(index)
                interpreter.set_input(np.zeros(details["shape"], details["dtype"]), index)
            interpreter.invoke()
            reply: dict[str, object] = {"ok": True}
            if command == "total":
                interpreter.print_allocations()
                match = _TOTAL.search(captured())
                reply["total"] = int(match.group(1)) if match else None
        except (RuntimeError, ValueError, IndexError) as exc:
            reply = {"ok": False, "error": str(exc), "log": _one_line(captured())}
        except Exception as exc:  # noqa: BLE001 - the flatbuffer reader's struct.error, TypeError, ...
            kind = type(exc).__qualname__ if type(exc).__module__ == "builtins" else f"{type(exc).__module__}.{type(exc).__qualname__}"
            reply = {"ok": False, "unreadable": True, "error": f"{kind}: {exc}"}
        print(json.dumps(reply), flush=True)
    return 0


def _one_line(log: bytes) -> str:
    return "; ".join(line.strip() for line in log.decode("utf-8", "replace").splitlines() if line.strip())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
