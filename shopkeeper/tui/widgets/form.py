"""Form rows for the edit screens: a label, the control, and its validation message right next to it."""

from __future__ import annotations

from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Label, Static

from shopkeeper.tui.format import plain


def field_row(label: str, control: Widget, name: str) -> Horizontal:
    """``label | control | message``; the message widget has id ``{name}-msg``."""
    return Horizontal(Label(label), control, Static("", id=f"{name}-msg", classes="message", markup=False),
                      classes="field", id=f"{name}-row")


def show_message(screen: Widget, name: str, text: str, *, ok: bool = False) -> None:
    message = screen.query_one(f"#{name}-msg", Static)
    message.update(plain(text))  # messages quote what was typed or stored: plain text
    message.set_class(ok, "-ok")
