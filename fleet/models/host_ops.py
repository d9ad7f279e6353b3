"""What the TFLite Micro host interpreter can run: its operators and its name.

Virtual boards run models in this interpreter, so this is what they answer to RUNTIME
(PROTOCOL.md): a board may only claim what it can really load. The operators are probed,
not listed from documentation: `fleet.models._op_probe` asks the interpreter to resolve
each candidate in a child process, without running any kernel (about 0.5 s for every
builtin). Answers are cached in memory and on disk, in `ops/` of
`fleet.models.host_tflm.cache_dir()`, per tflite-micro version.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fleet.errors import ModelError
from fleet.models._schema_names import BUILTIN_OPS
from fleet.models.host_tflm import cache_dir, child_env, tflm_version, write_cache
from fleet.protocol import MAX_NAME

# Bump when what is probed changes, so stale cache entries are not reused.
_METHOD = 1
_PROBE_TIMEOUT_S = 120.0
EVERY_BUILTIN: tuple[str, ...] = tuple(name for name in BUILTIN_OPS if name != "CUSTOM")


@dataclass(frozen=True, slots=True)
class HostOps:
    """The probed answer: the interpreter's runtime name and which candidates it registers."""

    runtime: str
    registered: frozenset[str]


_known: dict[str, dict[str, object]] = {}  # tflite-micro version -> cache entry


def host_ops(names: Iterable[str] = EVERY_BUILTIN) -> HostOps:
    """Which of `names` (builtin names as in TFLite's schema, or custom names) the host
    interpreter registers. Raises `ModelToolMissing` without tflite-micro, `ModelError`
    when the probe fails."""
    tflm = tflm_version("listing the host interpreter's operators")
    path = cache_dir() / "ops" / f"{tflm}.json"
    entry = _known.get(tflm) or _read(path, tflm)
    ops: dict[str, bool] = dict(entry["ops"]) if entry else {}  # type: ignore[call-overload]
    wanted = list(dict.fromkeys(names))
    missing = [name for name in wanted if name not in ops]
    if missing or entry is None:
        reply = _probe(missing)
        registered = set(reply["registered"])
        ops.update({name: name in registered for name in missing})
        entry = {"tflite_micro": tflm, "method": _METHOD, "version": reply["version"], "ops": ops}
        write_cache(path, entry)
    _known[tflm] = entry
    return HostOps(runtime_name(str(entry["version"])), frozenset(name for name in wanted if ops[name]))


def runtime_name(version: str) -> str:
    """How a virtual board names its runtime in RUNTIME: `tflite-micro <commit> reference`
    (the commit from a `…-g<hash>` version, else the version), within the 32-byte limit."""
    match = re.search(r"-g([0-9a-f]{7,})$", version)
    tag = match.group(1)[:7] if match else version
    fixed = len("tflite-micro  reference")
    return f"tflite-micro {tag[: MAX_NAME - fixed]} reference"


def _probe(names: list[str]) -> dict[str, object]:
    argv = [sys.executable, "-m", "fleet.models._op_probe", *names]
    try:
        done = subprocess.run(argv, capture_output=True, env=child_env(), timeout=_PROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ModelError(f"probing the host interpreter's operators took over {_PROBE_TIMEOUT_S:.0f} s") from None
    try:
        reply = json.loads(done.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        reply = {}
    if done.returncode != 0 or "registered" not in reply:
        why = reply.get("error") or done.stderr.decode("utf-8", "replace").strip()[-300:] or f"exit {done.returncode}"
        raise ModelError(f"cannot list the host interpreter's operators: {why}")
    return reply


def _read(path: Path, tflm: str) -> dict[str, object] | None:
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if entry["tflite_micro"] == tflm and entry["method"] == _METHOD and isinstance(entry["ops"], dict):
            return entry
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing or unreadable: probe again and overwrite
    return None
