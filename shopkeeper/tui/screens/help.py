"""Help (F1 or ?): the keys of every screen, and how the stock room works."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from shopkeeper.tui.registry import available_screens
from shopkeeper.tui.screens.base import ShopModal

HELP = """\
[b]Anywhere[/b]
  F1 or ?     this help            Ctrl+P   command palette (every action)
  Escape      back out             Ctrl+Q   quit
{screens}
[b]Stock[/b] (the home screen)
  type        filter by name, SKU or barcode (a scan into the filter works too)
  ↑ ↓ PgUp PgDn   move            Enter    open the product
  F7 / F8     sort by next column / reverse          F9   new product
  Tab         move between the filter, the table and the low-stock list
  ▼ LOW       at or below the reorder point   ✗ OUT   none left   – off: retired
  The table and the low-stock list update by themselves when any till,
  SSH session or the command line changes stock.

[b]Product[/b]   Ctrl+S save · F6 details/journal · F3/F4/F5 receive/adjust/count it
[b]Receive[/b]   scan or type the code, quantity, cost; Ctrl+S or Enter posts
[b]Adjust[/b]    code, change (+2 or -1), reason (required); Ctrl+S posts
[b]Count[/b]     scan, type what is on the shelf, Enter; repeat; F9 posts all
            variances together. The session stays open if you leave.
[b]Journal[/b]   every movement, newest first; Ctrl+S applies the filters
"""


class HelpScreen(ShopModal[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("f1", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        screens = "\n".join(f"  {e.key.upper():<11} {e.title:<16} {e.help}" for e in available_screens())
        with VerticalScroll(id="help-box") as box:
            box.border_title = "Help — Escape closes"
            yield Static(HELP.format(screens=screens))

    def action_close(self) -> None:
        self.dismiss(None)
