"""Form rows for the edit screens: a label, the control, and its validation message right next to it."""

from __future__ import annotations

from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from shopkeeper.tui.format import plain


def field_row(label: str, control: Widget, name: str) -> Horizontal:
    """``label | control | message``; the message widget has id ``{name}-msg``."""
    return Horizontal(Label(label), control, Static("", id=f"{name}-msg", classes="message", markup=False),
                      classes="field", id=f"{name}-row")


def show_message(screen: Widget, name: str, text: str, *, ok: bool = False) -> None:
    message = screen.query_one(f"#{name}-msg", Static)
    message.update(plain(text))  # messages quote what was typed or stored: plain text
    message.set_class(ok, "-ok")


def read_cost(screen: Widget, decimals: int, name: str = "cost") -> tuple[bool, int | None]:
    """The cost typed in field ``#name`` (``True, None`` when empty: the default cost), or ``False, None`` with the
    reason shown under the field. One rule for every screen that takes goods in at a cost."""
    from shopkeeper.errors import InvalidInput
    from shopkeeper.money import parse_money

    text = screen.query_one(f"#{name}", Input).value.strip()
    if not text:
        show_message(screen, name, "")
        return True, None
    try:
        value = parse_money(text, decimals, what="cost")
    except InvalidInput as exc:
        show_message(screen, name, f"✗ {exc.reason or exc}")
        return False, None
    if value < 0:
        show_message(screen, name, "✗ must not be negative")
        return False, None
    show_message(screen, name, "")
    return True, value
