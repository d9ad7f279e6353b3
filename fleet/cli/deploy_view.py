"""How `fleet deploy` shows progress: JSON lines, a live block of per-board bars on a
terminal, or plain lines (one per step) when output goes to a file or pipe."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TextIO

from fleet.deploy.events import DeployEvent

BAR = 24
REDRAW_EVERY_S = 0.1
PLAIN_PROGRESS_EVERY_S = 2.0  # piped output: an upload line this often, so a log shows it is alive
FINAL = {"confirmed", "rolled_back", "failed", "skipped", "refused", "stopped", "busy", "unreachable", "unknown"}


@dataclass
class _Row:
    phase: str = "waiting"
    done: int = 0
    total: int = 0
    rate: float = 0.0
    eta: float | None = None
    retransmits: int = 0
    wire: int = 0  # data bytes on the wire (acknowledged) for `done` model bytes
    encoding: str = "plain"
    outcome: str | None = None
    reason: str | None = None
    printed: float | None = None  # event time of the last upload line printed (plain output)


@dataclass
class DeployView:
    json_lines: bool
    stream: TextIO
    rows: dict[str, _Row] = field(default_factory=dict)
    _drawn: int = 0
    _last_draw: float = 0.0
    _finished: bool = False

    @property
    def live(self) -> bool:
        return not self.json_lines and self.stream.isatty()

    def emit(self, event: DeployEvent) -> None:
        if self.json_lines:
            print(event.line(), file=self.stream, flush=True)
            return
        if event.event == "plan":
            print(f"deploying {event.model} {event.version} ({event.total} B, sha256 {event.sha256[:12] if event.sha256 else '?'}) "
                  f"to {len(event.boards or [])} board(s), strategy {event.strategy}", file=self.stream)  # fmt: skip
            for name in event.boards or []:
                self.rows[name] = _Row()
            return
        if event.event == "done":
            self._draw(force=True)
            self._finished = True
            summary = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted((event.summary or {}).items()))
            print(f"done: {summary}", file=self.stream, flush=True)
            return
        if event.board is None:
            return
        row = self.rows.setdefault(event.board, _Row())
        self._update(row, event)
        if self.live:
            self._draw(force=event.event in FINAL)
        elif event.event == "progress" and event.phase == "uploading":
            complete = event.bytes is not None and event.bytes == event.total
            if complete or row.printed is None or event.time - row.printed >= PLAIN_PROGRESS_EVERY_S:
                row.printed = event.time
                print(self._uploading(event), file=self.stream, flush=True)
        elif event.event != "progress" or event.phase is not None:
            print(self._plain(event), file=self.stream, flush=True)

    def _update(self, row: _Row, e: DeployEvent) -> None:
        if e.phase:
            row.phase = e.phase
        if e.bytes is not None:
            row.done, row.total = e.bytes, e.total or row.total
            row.rate, row.eta, row.retransmits = e.rate or 0.0, e.eta, e.retransmits or 0
            row.wire, row.encoding = e.wire_bytes or 0, e.encoding or "plain"
        if e.event in FINAL:
            row.outcome, row.reason = e.event, e.reason
            if e.event == "confirmed" and e.inferences:
                row.reason = f"{e.model} {e.version}: {e.inferences} healthy inferences, median {(e.latency_us or 0) / 1000:.1f} ms"

    def _plain(self, e: DeployEvent) -> str:
        what = e.event if e.event != "progress" else e.phase
        detail = f": {e.reason}" if e.reason else ""
        if e.event == "verified":
            detail = f": sha256 ok, test-load ok, arena {e.arena_used} B"
        if e.event == "confirmed" and e.inferences:
            detail = f": {e.inferences} healthy inferences, median latency {(e.latency_us or 0) / 1000:.1f} ms"
        return f"{e.board}: {what}{detail}"

    @staticmethod
    def _uploading(e: DeployEvent) -> str:
        done, total = e.bytes or 0, e.total or 0
        parts = [f"{e.board}: uploading {done} of {total} B ({done / total if total else 0:.0%})",
                 f"{(e.rate or 0) / 1024:.1f} KiB/s"]  # fmt: skip
        if e.encoding and e.encoding != "plain":
            parts[1] += " effective"
            parts.append(f"{e.wire_bytes or 0} B on the wire ({e.encoding})")
        if e.eta is not None and done < total:
            parts.append(f"ETA {e.eta:.1f} s")
        if e.retransmits:
            parts.append(f"resent {e.retransmits}")
        return ", ".join(parts)

    def _draw(self, force: bool = False) -> None:
        if not self.live:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < REDRAW_EVERY_S:
            return
        self._last_draw = now
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F")
        width = max((len(n) for n in self.rows), default=4)
        for name, row in self.rows.items():
            self.stream.write("\x1b[2K" + self._line(name.ljust(width), row) + "\n")
        self._drawn = len(self.rows)
        self.stream.flush()

    @staticmethod
    def _line(name: str, row: _Row) -> str:
        if row.outcome:
            return f"{name}  {row.outcome.replace('_', ' '):<11} {row.reason or ''}".rstrip()
        frac = row.done / row.total if row.total else 0.0
        bar = "#" * int(frac * BAR) + "." * (BAR - int(frac * BAR))
        eta = f"ETA {row.eta:4.1f}s" if row.eta is not None and row.phase == "uploading" else ""
        retx = f"resent {row.retransmits}" if row.retransmits else ""
        wire = f"{row.encoding} {row.wire} B on the wire" if row.encoding != "plain" and row.phase == "uploading" else ""
        return f"{name}  {row.phase:<12} [{bar}] {frac:4.0%} {row.rate / 1024:7.1f} KiB/s {eta} {wire} {retx}".rstrip()

    def close(self) -> None:
        """Leave the final state on screen (when the rollout ended early, e.g. on Ctrl-C)."""
        if self.live and not self._finished:
            self._draw(force=True)
