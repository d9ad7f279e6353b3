"""The deploy dialog: pick a model, read each board's pre-flight verdict, pick targets, a strategy
and a latency budget, confirm. Returns a `DeployRequest` (or None when cancelled).

Loading a model (inspection, arena measurement in a child process on first sight) runs in a
thread worker; the manager's pre-flight then checks it against each online board's INFO, in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, OptionList, RadioButton, RadioSet, SelectionList
from textual.widgets.option_list import Option

from fleet.deploy.model_file import ModelFile, load_model_file
from fleet.deploy.preflight import Preflight
from fleet.errors import FleetError
from fleet.telemetry.state import BoardState
from fleet.tui.backend import DeployRequest
from fleet.tui.model_choices import ModelChoice
from fleet.tui.notify import show_error


@dataclass(frozen=True, slots=True)
class Verdict:
    """One board's pre-flight result as the dialog shows it."""

    board: str
    ok: bool
    text: str


class DeployScreen(ModalScreen[DeployRequest | None]):
    """See the module doc. Keys: tab between parts, enter picks a model, space picks boards."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+d", "confirm", "Deploy", priority=True),
    ]

    class Checked(Message):
        """Pre-flight verdicts for a loaded model (posted from the loading thread)."""

        def __init__(self, model: ModelFile, verdicts: list[Verdict]) -> None:
            super().__init__()
            self.model = model
            self.verdicts = verdicts

    class LoadFailed(Message):
        def __init__(self, error: FleetError) -> None:
            super().__init__()
            self.error = error

    def __init__(self, choices: list[ModelChoice], boards: Mapping[str, BoardState],
                 preflight: Callable[[ModelFile, str], Preflight | None], budget_ms: float | None,
                 preselect: tuple[str, ...] = ()) -> None:  # fmt: skip
        super().__init__()
        self.choices = choices
        self.boards = boards
        self.preflight = preflight  # (model, uid): the manager's verdict for an online board, else None
        self.budget_ms = budget_ms
        self.preselect = preselect
        self.model: ModelFile | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):  # scrolls in a small terminal (80x24)
            yield Label("Deploy a model", classes="dialog-title")
            with Horizontal():
                with Vertical(id="pick-model"):
                    yield Label("1. model (enter to check it)")
                    yield OptionList(*(Option(c.label, id=str(c.path)) for c in self.choices), id="models")
                    yield Input(placeholder="or type a .tflite path, enter", id="path")
                with Vertical(id="pick-boards"):
                    yield Label("2. target boards (space to select)")
                    names = sorted(self.boards.values(), key=lambda b: b.name)
                    yield SelectionList[str](*((Text(f"{b.name}  {b.profile or ''}  {b.model_text}"), b.name,
                                                b.name in self.preselect) for b in names), id="targets")  # fmt: skip
                    yield DataTable(id="preflight", cursor_type="none")
            with Horizontal(id="options"):
                yield Label("3. strategy")
                with RadioSet(id="strategy"):
                    yield RadioButton("canary: one board first", value=True, id="canary")
                    yield RadioButton("all at once", id="all")
                yield Label("latency budget ms")
                budget = "" if self.budget_ms is None else f"{self.budget_ms:g}"
                yield Input(budget, placeholder="none", id="budget", restrict=r"[0-9.]*")
            yield Label("pick a model to see each board's pre-flight verdict", id="verdict")
            with Horizontal(id="buttons"):
                yield Button("Deploy (ctrl+d)", variant="primary", id="deploy")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        table = self.query_one("#preflight", DataTable)
        table.add_columns("board", "pre-flight")
        self.query_one("#models", OptionList).focus()

    @on(OptionList.OptionSelected, "#models")
    def _model_picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self._check(Path(event.option.id))

    @on(Input.Submitted, "#path")
    def _path_typed(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self._check(Path(event.value.strip()).expanduser())

    def _check(self, path: Path) -> None:
        self.model = None
        self.query_one("#verdict", Label).update(f"checking {path.name}…")
        self._load(path)

    @work(thread=True, exclusive=True, group="preflight")
    def _load(self, path: Path) -> None:
        try:
            model = load_model_file(path)
        except FleetError as exc:
            self.post_message(self.LoadFailed(exc))
            return
        verdicts = []
        for board in sorted(self.boards.values(), key=lambda b: b.name):
            check = self.preflight(model, board.uid)
            if check is None:
                verdicts.append(Verdict(board.name, False, f"{board.state}: cannot check now"))
                continue
            text = check.message.split(": ", 1)[1]
            verdicts.append(Verdict(board.name, check.ok and not check.same_model, text))
        self.post_message(self.Checked(model, verdicts))

    def on_deploy_screen_checked(self, message: Checked) -> None:
        self.model = message.model
        table = self.query_one("#preflight", DataTable)
        table.clear()
        for v in message.verdicts:
            table.add_row(Text(v.board), Text(("✓ " if v.ok else "✗ ") + v.text))  # board text is never markup
        ok = sum(v.ok for v in message.verdicts)
        self.query_one("#verdict", Label).update(
            f"{message.model.name} {message.model.version}: {len(message.model.data):,} bytes, "
            f"arena {message.model.arena_bytes:,} bytes; {ok} of {len(message.verdicts)} boards can take it. "
            "Select targets with space, then ctrl+d."
        )  # fmt: skip
        self.query_one("#targets", SelectionList).focus()

    def on_deploy_screen_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#verdict", Label).update(f"cannot use this model: {message.error}")
        show_error(self.app, message.error, "pick another model, or a .tflite that `fleet model inspect` accepts")

    @on(Button.Pressed, "#deploy")
    def _deploy_pressed(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_confirm(self) -> None:
        if self.model is None:
            self.app.notify("Pick a model first (enter on a model, or type a path).", severity="warning")
            return
        targets = tuple(self.query_one("#targets", SelectionList).selected)
        if not targets:
            self.app.notify("Select at least one target board: tab to the board list, space to select.",
                            severity="warning")  # fmt: skip
            return
        text = self.query_one("#budget", Input).value.strip()
        try:
            budget = float(text) if text else None
        except ValueError:
            self.app.notify(f"Latency budget {text!r} is not a number of milliseconds.", severity="warning")
            return
        pressed = self.query_one("#strategy", RadioSet).pressed_button
        strategy = "all" if pressed is not None and pressed.id == "all" else "canary"
        self.dismiss(DeployRequest(self.model.path, targets, strategy, budget))
