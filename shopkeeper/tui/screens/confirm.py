"""A yes/no question before something that cannot be undone (voiding a sale, posting a count, cancelling one)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from shopkeeper.tui.format import plain
from shopkeeper.tui.screens.base import ShopModal


class ConfirmScreen(ShopModal[bool]):
    """Dismisses with True only for a deliberate "yes": ``y`` pressed on its own, or the yes button chosen with
    ←/→/Tab and then Enter. The focus starts on "no", so Enter alone (the Enter that ends a scan, too) never
    confirms; a scanner's burst, ``y`` or not, is refused by the app's ``KeyGate``. Escape or ``n``: False."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "answer(False)", "No"),
        Binding("n", "answer(False)", "No", show=False),
        Binding("y", "answer(True)", "Yes", show=False),
        Binding("left", "app.focus_previous", show=False),
        Binding("right", "app.focus_next", show=False),
    ]

    def __init__(self, question: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question, self.yes, self.no = question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(plain(self.question))
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="warning", compact=True)
                yield Button(f"{self.no} (n)", id="no", compact=True)
            yield Static(f"y: {self.yes} · n or Esc: {self.no}", id="confirm-keys", markup=False)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class ChoiceScreen(ShopModal[str | None]):
    """A question with a few answers, each a button with its own key; dismisses with the chosen answer's name,
    or None on Escape (stay where you were). The focus starts on the last answer (list the harmless one last), so
    an Enter alone never picks a consequential answer; ←/→ move between the buttons."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "choose(None)", "Stay"),
        Binding("left", "app.focus_previous", show=False),
        Binding("right", "app.focus_next", show=False),
    ]

    def __init__(self, question: str, choices: list[tuple[str, str, str]]) -> None:
        """``choices``: ``(name, label, key)``; the last is focused."""
        super().__init__()
        self.question, self.choices = question, choices

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            for line in self.question.split("\n"):  # its line breaks are layout; what is inside them is data
                yield Static(plain(line))
            with Horizontal(id="confirm-buttons"):
                for i, (name, label, key) in enumerate(self.choices):
                    yield Button(f"{label} ({'Esc' if key == 'escape' else key})", id=f"choice-{name}", variant="warning" if i == 0 else "default",
                                 compact=True)

    def on_mount(self) -> None:
        self.query(Button).last().focus()
        for name, _label, key in self.choices:
            self._bindings.bind(key, f"choose({name!r})", show=False)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "").removeprefix("choice-"))

    def action_choose(self, name: str | None) -> None:
        self.dismiss(name)
