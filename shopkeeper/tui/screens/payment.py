"""The payment dialog of the till: one payment or a split over cash, card and other.

It shows what is due, what is still to pay (and, for cash, that amount rounded to the shop's cash rounding), and
the tenders taken so far. F7 F8 F9 choose cash, card or other; Enter with an amount takes that much by the chosen
method; Enter on an empty field pays the rest by it. Cash that covers what is still due ends the payment and the
difference is change (shown as the amount is typed); card or other above it is refused (change only from cash).
On a sale, a tender that leaves something due is a part payment, kept on the open sale at once (``take``:
``till.take_payment``), so money taken is never forgotten: Escape closes the dialog and the part payments stay
on the sale (payment has started: taking goods off it now needs a supervisor), and F7 again pays the rest. The
last tender answers, and the till commits the sale with the part payments and it in one transaction
(``till.complete``). On a refund nothing is kept before the last tender: Escape cancels every tender taken.

The till's F7, F8 and F9 open this dialog on cash, card or other alike: Enter on the blank amount pays the rest by
that method (two keys for a card: the amount is seen before the card is charged), or the cash handed over and Enter.

On a refund against a sale the dialog lists how the sale was paid (per method) and opens, from F7, on "as paid":
Enter pays back the way the sale was paid (``sales.refund_tenders``); F7 F8 F9 choose a method instead (F8 or F9 on
the till open it on that method). Nothing is handed over on a refund: no change.

Like every dialog it sits behind the app's ``KeyGate``: a scanner's burst typed into the amount field is taken back
out and refused out loud, never taken as an amount.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from shopkeeper.errors import ShopError
from shopkeeper.money import format_money, parse_money
from shopkeeper.services.tenders import Tender, cash_due
from shopkeeper.tui.format import plain
from shopkeeper.tui.screens.base import ShopModal
from shopkeeper.tui.widgets.scan_input import ScanAwareInput

AS_PAID = "as paid"
NAMES = {"cash": "Cash", "card": "Card", "other": "Other", AS_PAID: "As paid"}


class PaymentScreen(ShopModal[list[Tender] | None]):
    """Answers with the tenders (``[]`` on a refund "as paid": the service's default), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("f7", "method('cash')", "Cash"),
        Binding("f8", "method('card')", "Card"),
        Binding("f9", "method('other')", "Other"),
    ]

    def __init__(self, due: int, method: str, *, decimals: int = 2, cash_step: int = 0, currency: str = "",
                 refund: bool = False, original: list[tuple[str, int]] | None = None,
                 taken: list[tuple[str, int]] | None = None, take: Callable[[Tender], str | None] | None = None
                 ) -> None:
        """``taken``: part payments already on the sale; ``take`` keeps a new one there (None, or why not)."""
        super().__init__()
        self.due, self.decimals, self.cash_step, self.currency = due, decimals, cash_step, currency
        self.refund = refund
        self.original = original or []
        self.method = AS_PAID if refund and self.original and method == "cash" else method  # F7: as paid
        self.tenders: list[Tender] = []
        self.taken: list[tuple[str, int]] = list(taken or [])  # (method, amount it settles) for the list shown
        self.take = take

    def money(self, minor: int) -> str:
        return format_money(minor, self.decimals)

    @property
    def remaining(self) -> int:
        return self.due - sum(amount for _, amount in self.taken)

    def compose(self) -> ComposeResult:
        what = "Pay back" if self.refund else "Payment"
        with Vertical(classes="prompt-box payment-box"):
            yield Static(plain(f"{what}: {self.currency} {self.money(self.due)}".replace("  ", " ")),
                         classes="prompt-title")
            if self.original:
                yield Static(plain("The sale was paid: " + ", ".join(f"{m} {self.money(a)}" for m, a in self.original)),
                             id="pay-original")
            yield Static("", id="pay-taken", markup=False)
            yield Static("", id="pay-remaining", markup=False)
            with Horizontal(classes="prompt-row"):
                yield Label("", id="pay-method")
                yield ScanAwareInput(placeholder="amount (blank: the rest)", id="pay-amount", compact=True)
            yield Static("", id="pay-change", markup=False)
            esc = "Esc back (taken stays on the sale)" if self.take is not None else "Esc cancel"
            keys = f"F7 cash  F8 card  F9 other · Enter on blank: the rest · {esc}"
            yield Static(keys, classes="prompt-hint", markup=False)

    def on_mount(self) -> None:
        self._show()
        self.query_one("#pay-amount", Input).focus()

    def _owed(self, method: str) -> int:
        """What ``method`` must cover now: the rest, rounded when cash pays it."""
        return cash_due(self.remaining, self.cash_step) if method == "cash" else self.remaining

    def _show(self) -> None:
        taken = ", ".join(f"{m} {self.money(a)}" for m, a in self.taken)
        self.query_one("#pay-taken", Static).update(f"Taken: {taken}" if taken else "")
        rest = f"Remaining {self.money(self.remaining)}"
        if self.cash_step and self.method == "cash" and self._owed("cash") != self.remaining:
            rest += f" · in cash {self.money(self._owed('cash'))} (rounded)"
        self.query_one("#pay-remaining", Static).update(rest)
        self.query_one("#pay-method", Label).update(NAMES[self.method])
        self.query_one("#pay-amount", Input).placeholder = (
            "Enter: pay back as the sale was paid" if self.method == AS_PAID else "amount (blank: the rest)")
        self._show_change(self.query_one("#pay-amount", Input).value)

    def _show_change(self, text: str) -> None:
        change = ""
        if self.method == "cash" and not self.refund and text.strip():
            try:
                handed = parse_money(text, self.decimals, what="amount")
            except ShopError:
                handed = 0
            if handed > self._owed("cash"):
                change = f"CHANGE {self.money(handed - self._owed('cash'))}"
        self.query_one("#pay-change", Static).update(change)

    @on(Input.Changed, "#pay-amount")
    def _typed(self, event: Input.Changed) -> None:
        self._show_change(event.value)

    def action_method(self, method: str) -> None:
        self.method = method
        self._show()

    @on(Input.Submitted, "#pay-amount")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        field = event.input
        text = field.value.strip()
        if self.method == AS_PAID:
            if text:
                self._refuse("choose how to pay back first: F7 cash, F8 card, F9 other")
                return
            self.dismiss([])
            return
        owed = self._owed(self.method)
        if not text:
            self.tenders.append(Tender(self.method))
            self.dismiss(self.tenders)
            return
        try:
            amount = parse_money(text, self.decimals, what="amount")
        except ShopError as exc:
            self._refuse(str(exc))
            return
        if amount <= 0:
            self._refuse("the amount must be more than zero")
            return
        if amount > owed and (self.method != "cash" or self.refund):
            why = "nothing is handed over on a refund" if self.refund else "change is given only from cash"
            self._refuse(f"{self.method} {self.money(amount)} is more than the {self.money(owed)} still due: {why}")
            return
        if amount >= owed:
            self.tenders.append(Tender(self.method, amount))
            self.dismiss(self.tenders)
            return
        if self.take is not None:
            refused = self.take(Tender(self.method, amount))
            if refused:
                self._refuse(refused)
                return
        else:
            self.tenders.append(Tender(self.method, amount))
        self.taken.append((self.method, amount))
        field.value = ""
        self._show()

    def _refuse(self, message: str) -> None:
        self.app.bell()
        self.notify(message, severity="error", timeout=6)

    def action_cancel(self) -> None:
        self.dismiss(None)
