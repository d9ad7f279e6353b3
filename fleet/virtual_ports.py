"""Where running virtual boards announce their ports, so discovery finds them unconfigured.

One JSON file per board, named by uid (a farm adds its pid and the board object's id: two
boards may claim one uid, and neither may overwrite or remove the other's entry), in the
registry directory: `$FLEET_SIM_REGISTRY`, else `$XDG_RUNTIME_DIR/fleet/sim`, else
`/tmp/fleet-$UID/sim`. Files are written
atomically (temporary file + `os.replace`), so a reader never sees half an entry. An
entry whose process is gone is stale: readers skip it and delete it. An entry without a
port, or whose port does not exist right now (a board unplugged by fault injection), is
kept and listed only on request (`unplugged=True`): the board is still part of the fleet.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

ENV_VAR = "FLEET_SIM_REGISTRY"
_Entry = TypeVar("_Entry", bound=BaseModel)


class RegisteredBoard(BaseModel):
    """A virtual board as the registry records it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    port: str  # "" while the board is unplugged
    uid: str  # hex
    profile: str
    pid: int
    baud: int | None = None


def registry_dir() -> Path:
    """The registry directory for this user (see the module doc)."""
    if override := os.environ.get(ENV_VAR):
        return Path(override)
    if runtime := os.environ.get("XDG_RUNTIME_DIR"):
        return Path(runtime) / "fleet" / "sim"
    return Path("/tmp") / f"fleet-{os.getuid()}" / "sim"  # not $TMPDIR: every terminal must agree


def write_entry(entry: BaseModel, name: str, directory: Path | None = None) -> Path:
    """Write `entry` as the file `name` in the registry, atomically; returns its path."""
    directory = directory or registry_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / name
    tmp = directory / f".{name}.{os.getpid()}.tmp"
    tmp.write_text(entry.model_dump_json(), encoding="utf-8")
    os.replace(tmp, path)
    return path


def live_entries(pattern: str, cls: type[_Entry], directory: Path | None = None) -> list[_Entry]:
    """Entries of files matching `pattern` whose process is alive; stale or unreadable ones are deleted."""
    directory = directory or registry_dir()
    if not directory.is_dir():
        return []
    entries = []
    for path in sorted(directory.glob(pattern)):
        try:
            entry = cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            continue  # removed while we listed
        except (ValueError, ValidationError):
            path.unlink(missing_ok=True)  # not ours, or written by a broken version
            continue
        if not _alive(entry.pid):  # type: ignore[attr-defined]
            path.unlink(missing_ok=True)
            continue
        entries.append(entry)
    return entries


def register(board: RegisteredBoard, directory: Path | None = None, *, key: str | None = None) -> Path:
    """Add or update a board's entry, the file `KEY.json` (`key` defaults to the uid); returns its path."""
    return write_entry(board, f"{key or board.uid}.json", directory)


def unregister(key: str, directory: Path | None = None) -> None:
    """Remove the entry `register` wrote under `key` (no error if it is already gone)."""
    ((directory or registry_dir()) / f"{key}.json").unlink(missing_ok=True)


def remove_if_empty(directory: Path | None = None) -> None:
    """Remove the registry directory when no board is left in it (another process may still use it)."""
    with contextlib.suppress(OSError):
        (directory or registry_dir()).rmdir()


def registered_boards(directory: Path | None = None, *, unplugged: bool = False) -> list[RegisteredBoard]:
    """Live virtual boards whose port exists now (with `unplugged`, also those whose port is
    gone for the moment), sorted by port; stale entries are deleted."""
    boards = [b for b in live_entries("*.json", RegisteredBoard, directory)
              if unplugged or (b.port and os.path.exists(b.port))]  # fmt: skip
    return sorted(boards, key=lambda b: b.port)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
