"""Driving the TUI in tests: the demo app over in-process virtual boards (memory pipes, no
pacing), waiting on what it shows, reading its widgets."""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import AsyncIterator, Callable

from rich.console import Console
from textual.notifications import Notification, Notifications

from tests.support.sim import require_sim

require_sim()  # the demo runs virtual boards

from fleet.cli.sim import demo_farm  # noqa: E402
from fleet.tui.app import FleetApp  # noqa: E402
from fleet.tui.backend import DemoBackend, DemoOptions  # noqa: E402
from fleet.tui.screens.fleet import FleetScreen  # noqa: E402

SIZE = (160, 48)


@contextlib.asynccontextmanager
async def demo_app(**options: object) -> AsyncIterator[tuple[FleetApp, DemoBackend, object]]:
    """The demo app over virtual boards on memory pipes; yields (app, backend, pilot)."""
    opts = DemoOptions(**{"transport": "memory", "baud": None, "seed": 7, **options})  # type: ignore[arg-type]
    session = DemoBackend(opts, demo_farm(opts))
    app = keep_notifications(FleetApp(session))
    try:
        async with app.run_test(size=SIZE) as pilot:
            yield app, session, pilot
    finally:
        await session.stop()


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 30.0,  # noqa: ANN001
                   what: str = "condition") -> None:  # fmt: skip
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await pilot.pause(0.1)


class _Kept(Notifications):
    """The app's notifications, which also keeps every one raised: Textual drops a toast
    once its timeout has passed on the wall clock, and on a loaded machine a test can look
    later than that (what the screen shows is unchanged)."""

    def __init__(self) -> None:
        super().__init__()
        self.raised: list[Notification] = []

    def add(self, notification: Notification) -> Notifications:
        self.raised.append(notification)
        return super().add(notification)


def keep_notifications(app: FleetApp) -> FleetApp:
    """Have `app` keep every notification it raises, for `raised` (before it runs)."""
    app._notifications = _Kept()
    return app


def raised(app: FleetApp) -> list[Notification]:
    """Every notification `app` has raised so far, shown or expired (see keep_notifications)."""
    return list(app._notifications.raised)


def fleet_screen(app: FleetApp) -> FleetScreen:
    screen = next(s for s in app.screen_stack if isinstance(s, FleetScreen))
    return screen


async def settled(app: FleetApp, pilot, boards: int = 4) -> FleetScreen:  # noqa: ANN001
    """Wait until the demo's opening deploy is done and every board streams results."""
    screen = fleet_screen(app)
    await wait_for(pilot, lambda: screen.feed.deploy.summary is not None and not screen.deploying,
                   what="the opening deploy")  # fmt: skip
    source = screen.source
    await wait_for(pilot, lambda: len(source.boards) == boards and all(
        b.stats.inference_rate for b in source.boards.values()), what="results from every board")  # fmt: skip
    return screen


def text_of(widget) -> str:  # noqa: ANN001 - a Static
    """The plain text a Static shows (its content rendered by Rich, 200 columns)."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def by_profile(screen: FleetScreen, profile: str):  # noqa: ANN201 - BoardState
    return next(b for b in screen.source.boards.values() if b.profile == profile)

