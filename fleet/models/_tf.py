"""Lazy, quiet access to TensorFlow for the modules that need it (build, convert, parity).

TensorFlow is the optional `fleet[tf]` extra: it is imported here, inside functions, and
nowhere at module level, so `import fleet.models` stays light.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from types import ModuleType

from fleet.errors import ModelToolMissing

_HINT = "pip install 'fleet[tf]'"


def tensorflow() -> ModuleType:
    """The `tensorflow` module, with its C++ logging turned down to errors only."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import tensorflow as tf
    except ImportError:
        raise ModelToolMissing("this command needs TensorFlow, which is not installed", hint=_HINT) from None
    return tf


def litert_interpreter() -> ModuleType:
    """`ai_edge_litert.interpreter`, the maintained TFLite interpreter."""
    try:
        from ai_edge_litert import interpreter
    except ImportError:
        raise ModelToolMissing("this command needs ai-edge-litert, which is not installed", hint=_HINT) from None
    return interpreter


@contextlib.contextmanager
def quiet(log: io.StringIO) -> Iterator[None]:
    """Send what TensorFlow prints (Python and C level, stdout and stderr) to `log`.

    The converter prints saved-model signatures on stdout and MLIR diagnostics on fd 2;
    they would corrupt `--json` output and bury our own messages. Callers include `log`
    in the error when conversion fails.
    """
    with tempfile.TemporaryFile(mode="w+b") as sink:
        saved = [os.dup(1), os.dup(2)]
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                os.dup2(sink.fileno(), 1)
                os.dup2(sink.fileno(), 2)
                yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            log.write(sink.read().decode("utf-8", "replace"))
