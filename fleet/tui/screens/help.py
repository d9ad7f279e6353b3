"""The help screen: every key, what the columns mean, and (in the demo) the story to try."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

KEYS = """\
# fleet — keys

| key | on the fleet table |
|---|---|
| ↑ ↓ | move between boards |
| enter | board detail: charts of outputs, latency and power, recent results, slots |
| d | deploy a model (pre-flight per board, targets, strategy, latency budget) |
| r | start / stop recording every event to a file |
| o | open a recording and replay it |
| / | filter boards by tag, group, or part of name/profile/model/state (esc clears) |
| s / S | sort by the next column / reverse the order |
| l | show / hide the log pane; L: minimum level; b: only the selected board's lines |
| ctrl+p | command palette: every action by name |
| ? | this help; q quits |

In the deploy dialog: tab moves between parts, enter checks a model, space selects boards,
ctrl+d deploys, esc cancels. A rollout's progress stays on screen under the table; a board
that fails its health check rolls back to its previous model, and the panel and the log
say why.

**Columns**: inf/s is inferences per second over the last 5 s (board clock); p99 the 99th
percentile latency of the last 200 results; mW the last power sample; µJ/inf the board's
energy over the window divided by the inferences it ran; link `ok` or the wire errors seen.
"""


class HelpScreen(ModalScreen[None]):
    """Keys and, when given, the demo's story."""

    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "Close")]

    def __init__(self, story: str | None = None) -> None:
        super().__init__()
        self.story = story

    def compose(self) -> ComposeResult:
        text = KEYS if not self.story else f"{KEYS}\n## The demo\n\n{self.story}\n"
        with VerticalScroll(id="help"):
            yield Markdown(text)
