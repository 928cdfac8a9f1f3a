"""Who is at the till: pick a name from the staff list or type a new one, so every movement records who."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from shopkeeper.services.queries import staff_names
from shopkeeper.tui.format import plain
from shopkeeper.tui.screens.base import ShopModal


class StaffScreen(ShopModal[str]):
    """Choose the staff member. ``first``: shown at start-up (Escape then leaves the app)."""

    TITLE = "Who is at the till"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    def __init__(self, *, first: bool = False) -> None:
        super().__init__()
        self.first = first

    def compose(self) -> ComposeResult:
        names = staff_names()
        with Vertical(id="staff-box") as box:
            box.border_title = "Who is at the till?"
            yield Label("Pick your name (↑↓ Enter) or type a new one."
                        + ("\nEscape leaves shopkeeper." if self.first else ""))
            yield OptionList(*[Option(plain(name), id=name) for name in names], id="staff-list")
            yield Input(placeholder="new name, then Enter", id="staff-new", compact=True)

    def on_mount(self) -> None:
        options = self.query_one("#staff-list", OptionList)
        if options.option_count:
            options.highlighted = 0
            options.focus()
        else:
            options.display = False
            self.query_one("#staff-new", Input).focus()

    @on(OptionList.OptionSelected, "#staff-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self._choose(str(event.option.id))

    @on(Input.Submitted, "#staff-new")
    def _typed(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if not name:
            self.notify("type a name, or pick one from the list", severity="warning")
            return
        if len(name) > 40:
            self.notify("a name of at most 40 characters, please", severity="warning")
            return
        self._choose(name)

    def _choose(self, name: str) -> None:
        self.app.set_staff(name)  # type: ignore[attr-defined]
        self.notify(f"{name} is at the till", timeout=2)
        self.dismiss(name)

    def action_back(self) -> None:
        if self.first:
            self.app.exit()
        else:
            self.dismiss(None)
