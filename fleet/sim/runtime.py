"""What a virtual board answers to RUNTIME (PROTOCOL.md): the interpreter it runs models
in, and the operators of its profile that this interpreter registers. An operator the
profile lists but the host interpreter lacks would fail at load, so it is not claimed."""

from __future__ import annotations

from functools import cache

from fleet.models._schema_names import BUILTIN_OPS
from fleet.models.host_ops import host_ops
from fleet.profiles import Profile
from fleet.protocol import MAX_NAME, RuntimeInfo


@cache
def board_runtime(profile: Profile) -> RuntimeInfo:
    """The RUNTIME answer of a virtual board built from `profile` (probed once per process)."""
    found = host_ops(sorted(profile.ops))
    builtins = sorted(BUILTIN_OPS.index(op) for op in found.registered if op in BUILTIN_OPS)
    customs = sorted(op for op in found.registered if op not in BUILTIN_OPS and len(op.encode()) <= MAX_NAME)
    return RuntimeInfo(found.runtime, tuple(builtins), tuple(customs))
