"""Shared output helpers for commands: plain tables for people, JSON for programs."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pydantic import BaseModel


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], file=None) -> None:  # noqa: ANN001
    """Left-aligned columns separated by two spaces; `-` for missing values."""
    out = file or sys.stdout
    cells = [[("-" if v is None or v == "" else str(v)) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(), file=out)
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(), file=out)


def print_json(model: BaseModel, file=None) -> None:  # noqa: ANN001
    """One JSON document (or one line in a stream of events)."""
    print(model.model_dump_json(), file=file or sys.stdout, flush=True)
