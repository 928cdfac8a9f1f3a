"""Who is at the till: type a name, or choose one from the staff list, so every movement records who."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from shopkeeper.services.queries import staff_names
from shopkeeper.tui.format import plain
from shopkeeper.tui.screens.base import ShopModal

MAX_NAME = 40


class StaffScreen(ShopModal[str]):
    """Choose the staff member. ``first``: shown at start-up (Escape then leaves the app).

    The name field keeps the focus, so what is typed always lands in it; ↑↓ choose from the list instead (and
    clear the field). Enter records what the line under the field says: the typed name if there is one (an
    existing name typed in other case is that person), else the highlighted one."""

    TITLE = "Who is at the till"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("up", "move(-1)", "Previous", show=False),
        Binding("down", "move(1)", "Next", show=False),
    ]

    def __init__(self, *, first: bool = False) -> None:
        super().__init__()
        self.first = first
        self.names = staff_names()

    def compose(self) -> ComposeResult:
        with Vertical(id="staff-box") as box:
            box.border_title = "Who is at the till?"
            yield Label("Type your name, or choose it with ↑↓.\nEnter records it."
                        + (" Escape leaves shopkeeper." if self.first else ""))
            yield Input(placeholder="your name", id="staff-new", max_length=MAX_NAME, compact=True)
            yield OptionList(*[Option(plain(name), id=name) for name in self.names], id="staff-list")
            yield Static("", id="staff-choice", markup=False)

    @property
    def options(self) -> OptionList:
        return self.query_one("#staff-list", OptionList)

    @property
    def field(self) -> Input:
        return self.query_one("#staff-new", Input)

    def on_mount(self) -> None:
        options = self.options
        options.can_focus = False  # a click still chooses; keys stay in the name field
        if options.option_count:
            options.highlighted = 0
        else:
            options.display = False
        self.field.focus()
        self._show_choice()

    def _existing(self, typed: str) -> str | None:
        folded = typed.casefold()
        return next((name for name in self.names if name.casefold() == folded), None)

    def choice(self) -> str | None:
        """The name Enter records now."""
        typed = self.field.value.strip()
        if typed:
            return self._existing(typed) or typed
        options = self.options
        if options.highlighted is None or not options.option_count:
            return None
        return str(options.get_option_at_index(options.highlighted).id)

    def _show_choice(self) -> None:
        name = self.choice()
        typed = self.field.value.strip()
        new = " (new)" if typed and self._existing(typed) is None else ""
        self.query_one("#staff-choice", Static).update(plain(f"Enter records: {name}{new}") if name else
                                                       "type your name, then Enter")

    @on(Input.Changed, "#staff-new")
    def _typing(self, event: Input.Changed) -> None:
        typed = event.value.strip()
        if typed:
            existing = self._existing(typed)
            self.options.highlighted = self.names.index(existing) if existing else None
        self._show_choice()

    def action_move(self, step: int) -> None:
        options = self.options
        if not options.option_count:
            return
        current = options.highlighted
        options.highlighted = 0 if current is None else max(0, min(options.option_count - 1, current + step))
        if self.field.value:
            self.field.value = ""  # the list's choice is what Enter records now
        self._show_choice()

    @on(OptionList.OptionSelected, "#staff-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self._choose(str(event.option.id))

    @on(Input.Submitted, "#staff-new")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = self.choice()
        if not name:
            self.notify("type a name, or choose one from the list", severity="warning")
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
