"""The exact tensor arena a model needs in the TFLM host interpreter, measured.

What `measure_arena` returns: the smallest `arena_size` (bytes) for which
`tflite_micro.runtime.Interpreter.from_bytes(model, arena_size=N)` allocates its tensors
AND one `invoke()` on zero inputs succeeds, with the interpreter's default (recording)
configuration — the configuration `fleet.models.tflm_runner.TflmRunner` uses. Every size from
that one up works; every size below fails.

Why not the "Arena allocation total" that `print_allocations()` reports: it is the arena
in use after allocation, while allocation itself may need more on the way (hello_world:
total 1504, smallest working arena 1936). So the total is only where the search starts.

How: a child process (`fleet.models._arena_probe`) loads the model at the sizes we ask,
because a too-small arena can kill the process with SIGSEGV instead of raising. A probe
that kills the child counts as "too small" and a new child carries on. The search asks
for the total at a generous size, then gallops from it to bracket the answer and bisects
to the byte: about 15 probes, well under a second after the child's ~0.3 s start-up.

The figure is for this host build of TFLM (64-bit pointers, so larger than on a 32-bit
microcontroller) and for this tflite-micro version; results are cached on disk by model
sha256 and tflite-micro version in `arena/` of `fleet.models.host_tflm.cache_dir()`.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import tempfile
from pathlib import Path

from fleet.errors import ModelError
from fleet.models.host_tflm import cache_dir, child_env, tflm_version, write_cache
from fleet.models.inspect import inspect_model

# Bump when what is measured changes, so stale cache entries are not reused.
_METHOD = 1
# A probe that takes longer than this (creating and invoking once) is treated as hung.
_PROBE_TIMEOUT_S = 120.0
# How often a child may die before we give up on the model rather than the arena size.
_MAX_CRASHES = 8
# The largest arena we try before deciding the model cannot load at all.
_MAX_ARENA = 256 * 1024 * 1024


def measure_arena(data: bytes, *, use_cache: bool = True, name: str | None = None) -> int:
    """Smallest arena (bytes) with which TFLM allocates and invokes this model; see module doc.

    Raises `ModelError` if the bytes are not a TFLite model, if tflite-micro is not
    installed, or if the host interpreter cannot read the model or run it at any arena
    size (an unsupported operator, for instance); the message carries TFLM's own
    explanation, and starts with `name` (the model's file, say) when given.
    """
    try:
        return _measure(data, use_cache)
    except ModelError as exc:
        if name is not None:
            exc.message = f"{name}: {exc.message}"
            exc.args = (exc.message,)
        raise


def _measure(data: bytes, use_cache: bool) -> int:
    info = inspect_model(data)
    tflm = tflm_version("measuring the tensor arena")
    cache_file = cache_dir() / "arena" / f"{info.sha256}.json"
    if use_cache:
        cached = _read_cache(cache_file, tflm)
        if cached is not None:
            return cached
    with tempfile.TemporaryDirectory(prefix="fleet-arena-") as tmp:
        model_path = Path(tmp) / "model.tflite"
        model_path.write_bytes(data)
        with _Prober(model_path, len(info.inputs)) as prober:
            arena = _search(prober, len(data))
    write_cache(cache_file, {"sha256": info.sha256, "arena_bytes": arena, "tflite_micro": tflm, "method": _METHOD})
    return arena


def _search(prober: _Prober, model_size: int) -> int:
    """Find the smallest working size, given a `probe(size) -> bool` that is monotonic in size."""
    generous = max(10 * model_size, 1024 * 1024)
    reply = prober.total(generous)
    if not reply.get("ok"):
        # Not obviously an arena problem; one much larger try tells the two apart.
        generous = min(16 * generous, _MAX_ARENA)
        reply = prober.total(generous)
        if not reply.get("ok"):
            raise ModelError(
                f"the TFLM host interpreter cannot run this model even with a {generous}-byte arena: "
                f"{reply.get('error')}" + (f" ({reply['log']})" if reply.get("log") else ""),
                hint="check that every operator is one TFLM supports (fleet model inspect lists them)",
            )
    start = min(int(reply.get("total") or generous), generous)
    # Bracket [bad, good] around the reported total, doubling the step each time.
    if prober.probe(start):
        good, step = start, 16
        bad = start - step
        while bad > 0 and prober.probe(bad):
            good, step = bad, step * 2
            bad = good - step
        bad = max(bad, 0)
    else:
        bad, step = start, 16
        good = start + step
        while good < generous and not prober.probe(good):
            bad, step = good, step * 2
            good = bad + step
        good = min(good, generous)
    while good - bad > 1:
        middle = (good + bad) // 2
        if prober.probe(middle):
            good = middle
        else:
            bad = middle
    return good


class _Prober:
    """Talks to one `_arena_probe` child at a time, replacing it when a probe kills it."""

    def __init__(self, model_path: Path, inputs: int) -> None:
        self._argv = [sys.executable, "-m", "fleet.models._arena_probe", str(model_path), str(inputs)]
        self._env = child_env()
        self._child: subprocess.Popen[bytes] | None = None
        self._crashes = 0

    def __enter__(self) -> _Prober:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def probe(self, size: int) -> bool:
        return bool(self._ask("probe", size).get("ok"))

    def total(self, size: int) -> dict[str, object]:
        return self._ask("total", size)

    def _ask(self, command: str, size: int) -> dict[str, object]:
        child = self._child or self._start()
        try:
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write(f"{command} {size}\n".encode())
            child.stdin.flush()
            ready, _, _ = select.select([child.stdout], [], [], _PROBE_TIMEOUT_S)
            line = child.stdout.readline() if ready else b""
        except BrokenPipeError:
            line = b""
        if line:
            reply = json.loads(line)
            if reply.get("unreadable"):
                raise ModelError(f"the TFLM host interpreter cannot read this model: {reply.get('error')}",
                                 hint="the file may be truncated or corrupted; re-export it")  # fmt: skip
            return reply
        if not ready and child.poll() is None:
            self._stop()
            raise ModelError(f"the TFLM host interpreter did not finish loading the model in {_PROBE_TIMEOUT_S:.0f} s")
        stderr = self._stop()
        if child.returncode > 0:
            # A Python-level failure (an import error, say), not a crash: a broken install
            # or a bug, not a property of the model.
            said = stderr.strip()[-500:] or "(it printed nothing)"
            raise ModelError(f"the arena probe exited with status {child.returncode}: {said}")
        # The child died of a signal on this probe: TFLM crashed on too small an arena.
        # Count it as a failure, unless it keeps happening, which means the model crashes
        # TFLM outright.
        self._crashes += 1
        if self._crashes > _MAX_CRASHES:
            raise ModelError("the TFLM host interpreter crashed loading the model at every size tried")
        return {"ok": False, "error": f"interpreter crashed at arena size {size}"}

    def _start(self) -> subprocess.Popen[bytes]:
        self._child = subprocess.Popen(
            self._argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self._env,
        )
        return self._child

    def _stop(self) -> str:
        """End the current child (if any); returns what it wrote to stderr."""
        child, self._child = self._child, None
        if child is None:
            return ""
        if child.poll() is None:
            child.kill()
        _, stderr = child.communicate()
        return stderr.decode("utf-8", "replace")


def _read_cache(path: Path, tflm: str) -> int | None:
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if entry["tflite_micro"] == tflm and entry["method"] == _METHOD and entry["sha256"] == path.stem:
            return int(entry["arena_bytes"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing or unreadable: measure again and overwrite
    return None
