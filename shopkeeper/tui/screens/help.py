"""Help (F1, or ?): the keys of every screen, and how the stock room works.

Every line is at most ``WIDTH`` columns, the width of the help box's text at 80 columns, so nothing wraps
mid-word. The Sell keys are read from the sell screen's own bindings, so they never drift from what it does."""

from __future__ import annotations

import textwrap
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.markup import escape
from textual.widgets import Static

from shopkeeper.tui.registry import available_screens
from shopkeeper.tui.screens.base import ShopModal

WIDTH = 70  # 80 columns: the box is 76 wide; border, padding and scrollbar leave 70 for text

HELP = """\
[b]Anywhere[/b]
  F1          this help (? too, except inside text you are typing)
  Ctrl+P      command palette: every action, by name ("staff" finds
              "Who is at the till")
  Escape      back out             Ctrl+Q   quit
  F12         lock the till (once staff have PINs): the next person
              signs in with name and PIN; it locks by itself when idle
{screens}
[b]Dialogs[/b]   answer with the keys shown: y yes, n or Escape no.
          Enter alone never confirms what cannot be undone.
          A scan while a dialog is open is refused with a bell:
          finish the dialog, then scan again.

[b]Stock[/b] (the home screen)
  type        filter by name, SKU or barcode (a scan works too)
  ↑ ↓ PgUp PgDn   move            Enter    open the product
  F7 / F8     sort by next column / reverse          F9   new product
  Tab         the filter, the table, the low-stock list in turn
  ▼ LOW at or under the reorder point, counting what is on order
  ▽ on ord low, but an order covers it · ✗ OUT none left · – off
  The table and the low-stock list update by themselves when any till,
  SSH session or the command line changes stock.

[b]Sell[/b] (F2)  the code field keeps the focus: scan, or type and Enter.
  3* before a code or a scan sets the quantity. An unknown code offers
  to create the product (c) or to sell a one-off item (o). The open
  sale is saved as you go: leaving or a lost connection loses nothing.
{sell}

[b]Product[/b]   Ctrl+S save · F6 details/journal
          F3/F4/F5 receive/adjust/count this product
[b]Receive[/b]   scan or type the code, quantity, cost; Ctrl+S or Enter posts
          F9: the orders awaiting goods, to receive against one
[b]Adjust[/b]    code, change (+2 or -1), reason (required); Ctrl+S posts
[b]Count[/b]     scan, type what is on the shelf, Enter; repeat. F9 posts
          all variances together, Ctrl+D removes the line under the
          cursor, Ctrl+X cancels the count. The session stays open if
          you leave: F5 resumes it.
[b]Journal[/b]   every movement, newest first; Ctrl+S applies the filters

[b]Suppliers[/b] (Ctrl+P)  ↑↓ a supplier, Ctrl+E edits it, F9 adds one.
          Tab to its products: Enter changes a link (item code,
          pack size, pack cost, preferred ★), Ctrl+D unlinks. Scan
          a product or type its SKU in the code field to link it;
          F7 finds one by name.
[b]Orders[/b] (Ctrl+P)  F7 which statuses, Enter opens, F9 new order.
  An order: a scan adds the product (a pack more if it is there);
          Enter or Ctrl+T quantity and cost · Ctrl+D remove line
          Ctrl+S send (says where the text and CSV went)
          F3 receive · F8 close short · Ctrl+X cancel. Each asks.
  Receiving: scan what arrived; the quantity starts at what is
          still missing, the cost at the order's; Enter posts. The
          lines say waiting, SHORT, complete, OVER or NOT ON ORDER.
          Leaving keeps the rest open; F9 closes the order and
          cancels what is missing (it asks first).
[b]Till[/b] (F11) this till's session: open with a float, cash in and out
  with a reason, no sale, the X report, close with the drawer counted.
{till}
"""

_KEY_NAMES = {"escape": "Esc", "up": "↑", "down": "↓", "left": "←", "right": "→", "enter": "Enter",
              "pageup": "PgUp", "pagedown": "PgDn", "delete": "Del"}


def key_name(key: str) -> str:
    """``ctrl+t`` → ``Ctrl+T``, ``f7`` → ``F7``, ``up`` → ``↑``."""
    parts = key.split("+")
    *mods, last = parts
    name = _KEY_NAMES.get(last) or (last.upper() if len(last) == 1 or last[0] == "f" else last.capitalize())
    return "+".join([m.capitalize() for m in mods] + [name])


def binding_keys(bindings: list[BindingType], indent: str = "  ") -> str:
    """``F7 Cash · F8 Card · …`` for every described binding, wrapped at ``WIDTH``."""
    items = []
    for b in bindings:
        if isinstance(b, Binding) and b.description:
            items.append(f"{'/'.join(key_name(k) for k in b.key.split(','))} {b.description}")
    return textwrap.fill(" · ".join(items), width=WIDTH, initial_indent=indent, subsequent_indent=indent,
                         break_on_hyphens=False)


def help_text() -> str:
    from shopkeeper.tui.screens.sell import SellScreen
    from shopkeeper.tui.screens.till import TillScreen

    screens, office = [], []
    for e in available_screens():
        if not e.key:
            office.append(e.title)
            continue
        prefix = f"  {e.key.upper():<4}{e.title:<10}"
        screens.append(textwrap.fill(e.help, width=WIDTH, initial_indent=prefix,
                                     subsequent_indent=" " * len(prefix)))
    if office:  # the office's screens have no key of their own: the command palette opens them by name
        screens.append(textwrap.fill(f"Ctrl+P, then the name: {', '.join(office)}", width=WIDTH,
                                     initial_indent="  ", subsequent_indent="  "))
    return HELP.format(screens="\n".join(escape(s) for s in screens),
                       sell=escape(binding_keys(SellScreen.BINDINGS)),
                       till=escape(binding_keys(TillScreen.BINDINGS))).rstrip("\n")


class HelpScreen(ShopModal[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("f1", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "Help — Escape closes"
            yield Static(help_text())

    def action_close(self) -> None:
        self.dismiss(None)
