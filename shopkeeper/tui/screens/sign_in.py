"""Signing in with a PIN: at start-up and to unlock a locked till (``SignInScreen``), and a supervisor's approval
of one act (``SupervisorScreen``). Shown once any staff member has a PIN (before that, ``StaffScreen`` asks for a
name only).

Name, then PIN: the name field (type a few letters, or ↑↓ in the list) and Enter go to the PIN field; the PIN and
Enter sign in. A PIN alone would be quicker by a keystroke, but finding its owner means trying every member's slow
salted hash in turn, and PINs would have to be unique (so setting one would tell you someone else's): name + PIN
keeps each hash salted and slow and each lockout per person. A cashier change is a few letters, Enter, PIN, Enter.

The PIN field is a password field in a dialog, so the app's ``KeyGate`` watches it: a scanner's burst typed into it
is taken back out and refused out loud, never tried as a PIN.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from shopkeeper.errors import ShopError
from shopkeeper.tui.format import plain
from shopkeeper.tui.screens.base import ShopModal

MAX_NAME = 40


def _names(permission: str | None = None, ctx=None) -> list[str]:
    from shopkeeper.services.context import Context
    from shopkeeper.services.staff import signable

    return signable(ctx or Context(), permission)


class _PinDialog(ShopModal):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("up", "move(-1)", "Previous", show=False),
        Binding("down", "move(1)", "Next", show=False),
    ]
    title_text = ""
    intro = ""

    permission: str | None = None  # list only those who may do this (a supervisor's approval)

    def __init__(self, *, name: str = "") -> None:
        super().__init__()
        self.names: list[str] = []
        self.preset = name

    def compose(self) -> ComposeResult:
        with Vertical(id="pin-box") as box:
            box.border_title = self.title_text
            # line by line: ``plain`` would show the line break between the reason and the ask as "\n"
            yield Label(Content("\n").join(plain(line) for line in self.intro.split("\n")), id="pin-intro")
            yield Input(placeholder="your name", id="pin-name", max_length=MAX_NAME, compact=True)
            yield OptionList(id="pin-list")
            yield Input(placeholder="PIN", id="pin-pin", password=True, compact=True)
            yield Static("", id="pin-error", markup=False)

    @property
    def name_field(self) -> Input:
        return self.query_one("#pin-name", Input)

    @property
    def pin_field(self) -> Input:
        return self.query_one("#pin-pin", Input)

    def on_mount(self) -> None:
        self.names = _names(self.permission, self.app.ctx)  # type: ignore[attr-defined]
        options = self.query_one("#pin-list", OptionList)
        options.add_options([Option(plain(n), id=n) for n in self.names])
        options.can_focus = False
        if not options.option_count:
            options.display = False
        if self.preset and self._existing(self.preset):
            self.name_field.value = self._existing(self.preset) or ""
            self.pin_field.focus()
        else:
            if options.option_count:
                options.highlighted = 0
            self.name_field.focus()

    def _existing(self, typed: str) -> str | None:
        folded = typed.strip().casefold()
        exact = next((n for n in self.names if n.casefold() == folded), None)
        if exact or not folded:
            return exact
        starts = [n for n in self.names if n.casefold().startswith(folded)]
        return starts[0] if len(starts) == 1 else None

    def choice(self) -> str | None:
        typed = self.name_field.value.strip()
        if typed:
            return self._existing(typed)
        options = self.query_one("#pin-list", OptionList)
        if options.highlighted is None or not options.option_count:
            return None
        return str(options.get_option_at_index(options.highlighted).id)

    @on(Input.Changed, "#pin-name")
    def _typing(self, event: Input.Changed) -> None:
        found = self._existing(event.value)
        if found is not None:
            self.query_one("#pin-list", OptionList).highlighted = self.names.index(found)

    def action_move(self, step: int) -> None:
        options = self.query_one("#pin-list", OptionList)
        if not options.option_count:
            return
        current = options.highlighted
        options.highlighted = 0 if current is None else max(0, min(options.option_count - 1, current + step))
        self.name_field.value = str(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected, "#pin-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.name_field.value = str(event.option.id)
        self.pin_field.focus()

    def _error(self, text: str) -> None:
        self.query_one("#pin-error", Static).update(text)

    @on(Input.Submitted, "#pin-name")
    def _name_done(self, event: Input.Submitted) -> None:
        event.stop()
        name = self.choice()
        if name is None:
            self._error("not on the list: type your name as the list shows it")
            return
        self.name_field.value = name
        self._error("")
        self.pin_field.focus()

    @on(Input.Submitted, "#pin-pin")
    def _pin_done(self, event: Input.Submitted) -> None:
        event.stop()
        name = self.choice()
        pin = self.pin_field.value
        self.pin_field.value = ""
        if name is None:
            self._error("choose your name first")
            self.name_field.focus()
            return
        try:
            self.accept(name, pin)
        except ShopError as exc:
            self._error(str(exc))

    def accept(self, name: str, pin: str) -> None:
        raise NotImplementedError


class SignInScreen(_PinDialog):
    """Who is at the till, proved by PIN. ``first``: at start-up (Escape leaves the app); else the till is locked
    (Escape does nothing: the next person signs in)."""

    title_text = "Till locked: sign in"

    def __init__(self, *, first: bool = False, name: str = "") -> None:
        super().__init__(name=name)
        self.first = first
        self.intro = ("Your name (or ↑↓), Enter, then your PIN and Enter."
                      + (" Escape leaves shopkeeper." if first else ""))
        if first:
            self.title_text = "Sign in"

    def accept(self, name: str, pin: str) -> None:
        from shopkeeper.services import staff

        signed = staff.sign_in(self.app.ctx, name, pin)  # type: ignore[attr-defined]
        self.app.set_staff(signed)  # type: ignore[attr-defined]
        self.notify(f"{signed} is at the till", timeout=2)
        self.dismiss(signed)

    def action_back(self) -> None:
        if self.first:
            self.app.exit()


class SupervisorScreen(_PinDialog):
    """A supervisor approves one act right here: their name and PIN. Answers (name, PIN) — the service checks the
    PIN again when the act is retried; this dialog checks it first only so that a wrong one is said here."""

    title_text = "Supervisor approval"

    def __init__(self, reason: str, permission: str) -> None:
        from shopkeeper.services.roles import WHAT

        super().__init__()
        self.permission = permission
        self.intro = f"{reason}\nA supervisor who may {WHAT.get(permission, permission)}: name, Enter, PIN, Enter."

    def accept(self, name: str, pin: str) -> None:
        from shopkeeper.services import staff

        row = staff.verify_pin(self.app.ctx, name, pin)  # type: ignore[attr-defined]
        self.dismiss((row.name, pin))

    def action_back(self) -> None:
        self.dismiss(None)
