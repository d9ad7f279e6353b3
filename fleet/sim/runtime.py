"""What a virtual board answers to RUNTIME (PROTOCOL.md): the interpreter it runs models
in, and the operators of its profile that this interpreter registers. An operator the
profile lists but the host interpreter lacks would fail at load, so it is not claimed.

The answer needs a probe of the host interpreter (`fleet.models.host_ops`, a child process,
cached on disk). `warm` runs it ahead in a worker thread when a farm starts, so that a
board's first answer does not stall the event loop every board shares; a board asked
meanwhile waits for that probe rather than starting its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import cache

from fleet.errors import FleetError
from fleet.models._schema_names import BUILTIN_OPS
from fleet.models.host_ops import host_ops
from fleet.profiles import Profile
from fleet.protocol import MAX_OP_NAME, RuntimeInfo

_probing = threading.Lock()


def board_runtime(profile: Profile) -> RuntimeInfo:
    """The RUNTIME answer of a virtual board built from `profile` (probed once per process)."""
    with _probing:
        return _answer(profile)


def warm(profiles: Iterable[Profile]) -> None:
    """Compute the answers ahead (in a worker thread). A failure is left for the board to
    report when asked."""
    kinds = list(profiles)
    try:
        host_ops(sorted(set().union(*(kind.ops for kind in kinds))))  # one probe for every kind
        for kind in kinds:
            board_runtime(kind)
    except FleetError:
        pass


@cache
def _answer(profile: Profile) -> RuntimeInfo:
    found = host_ops(sorted(profile.ops))
    builtins = sorted(BUILTIN_OPS.index(op) for op in found.registered if op in BUILTIN_OPS)
    customs = sorted(op for op in found.registered if op not in BUILTIN_OPS and len(op.encode()) <= MAX_OP_NAME)
    return RuntimeInfo(found.runtime, tuple(builtins), tuple(customs))
