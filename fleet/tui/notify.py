"""Errors as notifications that say what happened and what to do about it."""

from __future__ import annotations

from textual.app import App

from fleet.errors import FleetError

ERROR_TIMEOUT_S = 12


def show_error(app: App, error: FleetError, fallback_hint: str | None = None) -> None:
    """`notify` an error with its hint (or `fallback_hint`), long enough to read."""
    hint = error.hint or fallback_hint
    message = f"{error}\n→ {hint}" if hint else str(error)
    # Error messages quote boards (names, device texts): shown as they are, never as markup.
    app.notify(message, title=type(error).__name__, severity="error", timeout=ERROR_TIMEOUT_S, markup=False)
