"""The till: scan to sell, take payment, refunds, park and resume.

Every scan, typed code or edit goes straight to ``services.till`` — one small write transaction — so the open sale
on screen is always the one saved in the database; closing the terminal, losing the SSH connection or a crash loses
nothing, and the next session at this terminal shows the same sale. Scans are handled in the order they arrive, on
the app's loop, one ``Scanned`` message each: ten scans fired back to back are ten units.

Keys (the code field keeps the focus, so a scanner's keys always land in it):

=========  ==========================================================
Enter      add the typed code (``3*`` before a code or a scan sets the quantity)
↑ ↓        choose a line
Ctrl+T     quantity of the chosen line     Ctrl+R  remove the chosen line
Ctrl+L     line discount                   Ctrl+B  sale discount (amount or ``10%``)
Ctrl+S     price of the chosen line (another price than the catalogue's needs ``price_override``)
F7 F8 F9   pay: the payment dialog on cash, card or other (a refund: F7 as the sale was paid). Enter on a
           blank amount pays the rest by that method; F7 F8 F9 there switch method; split over several
Ctrl+Y     park the sale                   Ctrl+O  resume a parked sale
Ctrl+F     refund (against a sale number, or without a receipt with a reason)
Ctrl+N     void the sale                   Escape  back (the sale stays open)
Ctrl+G     reprint a receipt (the last one by default), marked COPY
=========  ==========================================================

Paying with no till session open at this till, once the shop keeps till sessions (one was ever opened), asks to
open one first (F11 Till) or to sell without one; the sale stays open either way. The rule is the same for a part
payment and for paying in full, and the answer covers the sale: its part payments and its rest are asked once.

An item whose label says it has expired (GS1 AI 17) asks first: Ctrl+E sells it anyway, Escape does not; the Enter
that ends a scan never answers that question.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from shopkeeper.errors import InvalidInput, ShopError
from shopkeeper.money import format_percent, format_qty, parse_money, parse_qty
from shopkeeper.services.permissions import PermissionDenied
from shopkeeper.services import till
from shopkeeper.text import safe
from shopkeeper.tui.format import plain
from shopkeeper.tui.screens.base import ShopModal, ShopScreen
from shopkeeper.tui.screens.confirm import ConfirmScreen
from shopkeeper.tui.widgets.footer import ShopFooter
from shopkeeper.tui.widgets.sale_lines import LineColumn, SaleLinesView
from shopkeeper.tui.widgets.scan_input import ScanAwareInput, ScanInput, Scanned
from shopkeeper.tui.widgets.top_bar import TopBar

_PENDING_QTY = re.compile(r"^\s*[-+−]?\s*[\d.,]*\d[\d.,]*\s*[*×]\s*$")  # "3*", or "-2*" to refuse

LINE_COLUMNS = (LineColumn("#", 3), LineColumn("Item", 28), LineColumn("Qty", 9, "right"),
                LineColumn("Price", 9, "right"), LineColumn("Disc", 7, "right"), LineColumn("Total", 9, "right"))


class _Dialog(ShopModal):
    """A dialog over the till. A scan that arrives while it is open is not added (the cashier is mid-question):
    ``ShopModal`` refuses it out loud, never drops it silently."""


class ReceiptScreen(_Dialog):
    """A receipt as printed, to read (a reprint); Escape or Enter closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close"),
                                             Binding("enter", "close", "Close", show=False)]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        from textual.containers import VerticalScroll

        with VerticalScroll(classes="prompt-box receipt-box"):
            yield Static(self.text.rstrip("\n"), markup=False)
            yield Static("Esc closes", classes="prompt-hint")

    def action_close(self) -> None:
        self.dismiss(None)


class PromptScreen(_Dialog):
    """A few labelled fields; Enter in the last one (or Ctrl+S) answers with their values, Escape with None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "done", "OK", show=False),
    ]

    def __init__(self, title: str, fields: list[tuple[str, str, str, str]], hint: str = "") -> None:
        """``fields``: (name, label, placeholder, initial value)."""
        super().__init__()
        self.title_text, self.fields, self.hint = title, fields, hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt-box"):
            yield Static(plain(self.title_text), classes="prompt-title")
            for name, label, placeholder, value in self.fields:
                with Horizontal(classes="prompt-row"):
                    yield Label(label)
                    # Scan-aware: a scanner burst typed into a field here becomes a (refused) scan, not a value.
                    yield ScanAwareInput(value=value, placeholder=placeholder, id=f"f-{name}", compact=True)
            if self.hint:
                yield Static(plain(self.hint), classes="prompt-hint")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        i = inputs.index(event.input)
        if i + 1 < len(inputs):
            inputs[i + 1].focus()
        else:
            self.action_done()

    def action_done(self) -> None:
        self.dismiss({name: self.query_one(f"#f-{name}", Input).value for name, *_ in self.fields})

    def action_cancel(self) -> None:
        self.dismiss(None)


class UnknownCodeScreen(_Dialog):
    """An unknown code: create the product here (c), sell a one-off item at a typed price (o), or cancel."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "choose(None)", "Cancel"),
        Binding("c", "choose('create')", "Create product"),
        Binding("o", "choose('one-off')", "One-off item"),
    ]

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt-box"):
            yield Static(plain(f"Unknown code {self.code}"), classes="prompt-title")
            yield Static("c  create the product now and sell it\n"
                         "o  sell a one-off item at a typed price\n"
                         "Esc  cancel", markup=False)

    def action_choose(self, choice: str | None) -> None:
        self.dismiss(choice)


class ExpiredScreen(_Dialog):
    """An item whose label says it has expired (GS1 AI 17): sold only when the cashier presses Ctrl+E, a key no
    scanner types. There is no default button and Enter, which ends every scan, does not answer; Escape leaves
    it unsold."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "answer(False)", "Do not sell"),
        Binding("ctrl+e", "answer(True)", "Sell anyway"),
        Binding("enter", "hint", show=False),
    ]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt-box expired-box"):
            yield Static("Expired item", classes="prompt-title")
            yield Static(plain(self.message))
            yield Static("The label says it must not be sold after that date.", markup=False)
            yield Static("Ctrl+E  sell it anyway (the cashier checked it)\nEsc     do not sell it", markup=False,
                         classes="prompt-hint")

    def action_hint(self) -> None:
        self.app.bell()
        self.notify("Enter does not answer this: Ctrl+E sells it anyway, Escape does not", severity="warning",
                    timeout=4)

    def action_answer(self, sell: bool) -> None:
        self.dismiss(sell)


class ParkedScreen(_Dialog):
    """Choose a parked sale to resume."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, parked: list[till.ParkedSale], money: Callable[[int], str]) -> None:
        super().__init__()
        self.parked, self.money = parked, money

    def _paid(self, p: till.ParkedSale) -> str:
        return ("  paid " + " + ".join(f"{m} {self.money(a)}" for m, a in p.payments)) if p.payments else ""

    def compose(self) -> ComposeResult:
        from shopkeeper.tui.format import local_time

        with Vertical(classes="prompt-box"):
            yield Static("Resume a parked sale (Enter)", classes="prompt-title")
            yield OptionList(*[
                Option(plain(f"#{p.id}  {local_time(p.updated_at)}  {p.lines} line(s)  {p.terminal}"
                             f"{'  refund' if p.mode == 'refund' else ''}{self._paid(p)}  {p.note}"), id=str(p.id))
                for p in self.parked], id="parked-list")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id))

    def action_cancel(self) -> None:
        self.dismiss(None)


class SellScreen(ShopScreen):
    TITLE = "Sell"
    CSS_PATH = "sell.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("f7", "pay('cash')", "Cash"),
        Binding("f8", "pay('card')", "Card"),
        Binding("f9", "pay('other')", "Other"),
        Binding("up", "move(-1)", "Line up", show=False),
        Binding("down", "move(1)", "Line down", show=False),
        Binding("ctrl+t", "quantity", "Qty"),
        Binding("ctrl+r", "remove", "Remove"),
        Binding("ctrl+l", "line_discount", "Line disc"),
        Binding("ctrl+b", "sale_discount", "Sale disc"),
        Binding("ctrl+s", "price", "Price", show=False),
        Binding("ctrl+y", "park", "Park"),
        Binding("ctrl+o", "resume", "Resume"),
        Binding("ctrl+f", "refund", "Refund"),
        Binding("ctrl+n", "void", "Void"),
        Binding("ctrl+g", "reprint", "Reprint"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.draft: till.Draft | None = None
        self.selected: int | None = None  # line id
        self.last_result = None
        self._original_for: int | None = None  # the refunded sale whose payments ``_original_paid`` says
        self._original_paid = ""
        self._without_session_for: int | None = None  # the open sale "sell without a session" was chosen for

    # -- layout ---------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TopBar(self.TITLE)
        yield Static("", id="sale-mode", markup=False)
        with Horizontal(id="code-row"):
            yield Label("Code")
            yield ScanInput(id="code", placeholder="scan or type a code · 3* before it sets the quantity")
        # Never focused (the code field keeps the focus: a scanner's keys must always land there); a scan repaints
        # only the rows it changed (SaleLinesView).
        yield SaleLinesView(LINE_COLUMNS, id="lines")
        yield Static("", id="totals", markup=False)
        yield Static("", id="status", markup=False)
        yield Static("F7 cash  F8 card  F9 other   ↑↓ line  ^T qty  ^R remove  ^L/^B line/sale disc\n"
                     "^Y park  ^O resume  ^F refund  ^N void  ^S price   3* before a scan = qty",
                     id="keys", markup=False)
        yield ShopFooter()

    def on_mount(self) -> None:
        self.code_input.focus()
        self.refresh_data()

    @property
    def code_input(self) -> ScanInput:
        return self.query_one("#code", ScanInput)

    # -- showing the sale ----------------------------------------------------------------------------------

    def refresh_data(self) -> None:
        try:
            draft = till.current_sale(self.shop.ctx)
        except ShopError as exc:
            self.notify(str(exc), severity="error")
            return
        self.show(draft)

    def show(self, draft: till.Draft) -> None:
        old_keys = [line.id for line in self.draft.lines] if self.draft is not None else []
        self.draft = draft
        if draft.empty:  # paid, voided or parked: the next sale is asked about the session afresh (ids recur)
            self._without_session_for = None
        self.paint_promptly()  # the line on screen now, not at the next 60 Hz slot (ShopScreen.paint_promptly)
        keys = [line.id for line in draft.lines]
        if draft.changed_line in keys:
            self.selected = draft.changed_line
        elif self.selected not in keys:
            # the chosen line is gone (removed here or elsewhere): the cursor stays at its place, on the next line
            at = old_keys.index(self.selected) if self.selected in old_keys else len(keys) - 1
            self.selected = keys[min(at, len(keys) - 1)] if keys else None
        with self.app.batch_update():
            # only the rows whose cells changed (and the old and new cursor rows) are repainted
            self.query_one("#lines", SaleLinesView).set_rows([(line.id, self._cells(line)) for line in draft.lines],
                                                             self.selected)
            self._show_totals()

    @on(SaleLinesView.Clicked)
    def _line_clicked(self, event: SaleLinesView.Clicked) -> None:
        self.selected = event.key

    def _cells(self, line: till.DraftLine) -> tuple[str, ...]:
        priced = line.priced
        unit = f" {line.unit}" if line.unit and line.unit != "pcs" else ""
        name = line.description + (" ⚖" if line.weighed else "")
        disc = (f"{format_percent(line.discount_rate)} %" if line.discount_rate is not None
                else self.money(line.discount) if line.discount else "")
        total = self.money(priced.total) if priced is not None else "?"
        return (str(line.line_no), name, f"{format_qty(line.quantity)}{unit}", self.money(line.unit_price), disc,
                total)

    @staticmethod
    def _set_text(static: Static, text: str) -> None:
        """Change a one-line status text. Each of them has a fixed size (``height: 1``, the screen's width), so a
        new text never needs a layout of the screen — only this line is repainted — and an unchanged text not even
        that. The text quotes data (reasons, problems): shown plain, control characters escaped."""
        text = safe(text)
        if str(static.content) != text:
            static.update(plain(text), layout=False)

    def _show_totals(self) -> None:
        d = self.draft
        if d is None:
            return
        mode = self.query_one("#sale-mode", Static)
        if d.mode == "refund":
            # fits 80 columns; the free-text reason comes last, so only it can run into the ellipsis
            against = f"against sale #{d.original_sale}" if d.original_sale else "no receipt"
            reason = "" if d.original_sale else f" · reason: {d.reason}"
            paid = f" (paid {self._original_text(d)})" if d.original_sale else ""
            how = "F7 pay back as paid" if d.original_sale else "F7/F8/F9 pay back"
            self._set_text(mode, f"REFUND {against}{paid} · {len(d.lines)} line(s) · {how}{reason}")
            mode.set_class(True, "-refund")
        else:
            self._set_text(mode, f"Sale · {len(d.lines)} line(s), {d.items} item(s)")
            mode.set_class(False, "-refund")
        parts = []
        if d.mode == "sale" and (d.discount or d.discount_rate):
            rate = f" {format_percent(d.discount_rate)} %" if d.discount_rate is not None else ""
            parts.append(f"Subtotal {self.money(d.subtotal)}  Sale disc{rate} -{self.money(d.discount)}")
        incl = " incl." if self.shop.ctx.prices_include_tax else ""
        parts.append(f"Tax{incl} {self.money(d.tax)}")
        label = "TO PAY BACK" if d.mode == "refund" else "TOTAL"
        parts.append(f"{label} {self.shop.config.shop.currency} {self.money(d.total)}")
        self._set_text(self.query_one("#totals", Static), "   ".join(parts))
        status = self.query_one("#status", Static)
        if d.problem:
            self._set_text(status, f"✗ {d.problem}")
        elif d.payment_started:
            paid = " + ".join(f"{m} {self.money(a)}" for m, a in d.payments)
            self._set_text(status, f"Paid so far {paid} · DUE {self.money(d.due)} · F7 pays the rest")
        elif self.last_result is not None and d.empty:
            r = self.last_result
            kind = "Refund" if r.kind == "return" else "Sale"
            change = f" · CHANGE {self.money(r.change)}" if r.change else ""
            self._set_text(status, f"✓ {kind} #{r.sale_id} {self.money(abs(r.paid))} {self._paid_by(r)}{change}")
        else:
            self._set_text(status, "")

    def _original_text(self, d: till.Draft) -> str:
        """``card`` or ``card 2.00 + cash 3.16``: how the refunded sale was paid, read once per refund."""
        if self._original_for != d.original_sale:
            payments = self._original_payments(d) or []
            self._original_for = d.original_sale
            self._original_paid = (payments[0][0] if len({m for m, _ in payments}) == 1 else
                                   " + ".join(f"{m} {self.money(a)}" for m, a in payments))
        return self._original_paid

    # -- scans -------------------------------------------------------------------------------------------------

    @on(Scanned)
    def _scanned(self, event: Scanned) -> None:
        event.stop()
        code = event.code.strip()
        pending = self.code_input.value
        try:
            if _PENDING_QTY.match(pending) and not till.split_quantity(code)[0]:
                code = pending.strip() + code  # "3*" typed, then the item scanned
                self.code_input.value = ""
            waiting = bool(code) and till.split_quantity(code)[1] == ""
        except InvalidInput as exc:
            self.code_input.value = ""
            self.app.bell()
            self.notify(f"{exc} (nothing added)", severity="error", timeout=6)
            return
        if not code:
            return
        if waiting:
            self.code_input.value = code  # just "3*": wait for the item
            self.code_input.cursor_position = len(code)
            return
        self.add(code)

    def add(self, code: str) -> None:
        layouts = self.shop.config.extra.get("barcodes")
        try:
            draft = till.add_scan(self.shop.ctx, code, layouts=layouts)
        except till.UnknownCode as exc:
            self._unknown(exc)
            return
        except till.ExpiredItem as exc:
            self._expired(code, exc)
            return
        except ShopError as exc:
            self.app.bell()
            self.notify(str(exc), severity="error", timeout=6)
            return
        self.show(draft)
        if draft.notice:
            self.notify(draft.notice, timeout=6)

    def _expired(self, code: str, exc: till.ExpiredItem) -> None:
        """Ask before selling an expired item; the answer is a deliberate key (see ``ExpiredScreen``)."""
        self.app.bell()

        def answered(sell: bool | None) -> None:
            if not sell:
                self.notify(f"{exc}: not sold", severity="warning", timeout=6)
                return
            try:
                draft = till.add_scan(self.shop.ctx, code, layouts=self.shop.config.extra.get("barcodes"),
                                      accept_expired=True)
            except ShopError as err:
                self.app.bell()
                self.notify(str(err), severity="error", timeout=6)
                return
            self.show(draft)

        self.app.push_screen(ExpiredScreen(str(exc)), answered)

    def _unknown(self, exc: till.UnknownCode) -> None:
        self.app.bell()
        code, qty = exc.code, exc.quantity or 1000
        scan = exc.scan
        is_barcode = scan is not None and scan.kind != "free"

        def create(values: dict[str, str] | None) -> None:
            if values is None:
                return
            from shopkeeper.services import catalog

            try:
                price = parse_money(values["price"], self.decimals, what="price")
                data = catalog.ProductData(sku=values["sku"].strip(), name=values["name"].strip(), price=price,
                                           unit=values["unit"].strip() or "pcs",
                                           barcodes=[scan.code] if is_barcode else [])
                product = catalog.save_product(data, default_tax_rate=self.shop.ctx.default_tax_rate, ctx=self.shop.ctx)
                self.show(till.add_product(self.shop.ctx, product, qty))
            except ShopError as err:
                self.notify(str(err), severity="error", timeout=6)
                return
            self.notify(f"created {product.sku} {product.name}", timeout=3)
            self.shop.data_changed()

        def one_off(values: dict[str, str] | None) -> None:
            if values is None:
                return
            try:
                price = parse_money(values["price"], self.decimals, what="price")
            except ShopError as err:
                self.notify(str(err), severity="error", timeout=6)
                return
            self._do(lambda: till.add_one_off(self.shop.ctx, values["description"], price, qty, code=code))

        def chosen(choice: str | None) -> None:
            if choice == "create":
                self.app.push_screen(PromptScreen(f"New product for {code}", [
                    ("sku", "SKU", "e.g. JAM-340", "" if is_barcode else safe(code)),
                    ("name", "Name", "as on the receipt", ""),
                    ("unit", "Unit", "pcs, kg, l", "pcs"),
                    ("price", "Price", "e.g. 2.49", ""),
                ], hint=f"barcode {scan.code} is stored with it" if is_barcode else ""), create)
            elif choice == "one-off":
                self.app.push_screen(PromptScreen(f"One-off item ({code})", [
                    ("description", "Description", "what it is", ""),
                    ("price", "Price", "e.g. 4.50", ""),
                ]), one_off)

        self.app.push_screen(UnknownCodeScreen(code), chosen)

    # -- line edits ------------------------------------------------------------------------------------------

    def _selected_line(self) -> till.DraftLine | None:
        if self.draft is None or self.selected is None:
            self.notify("no line chosen: scan an item first", severity="warning", timeout=3)
            return None
        try:
            return self.draft.line(self.selected)
        except ShopError:
            return None

    def _do(self, call) -> bool:
        try:
            draft = call()
        except PermissionDenied as exc:
            self.shop.ask_supervisor(exc, lambda: self._do(call))
            return False
        except ShopError as exc:
            self.notify(str(exc), severity="error", timeout=6)
            return False
        self.show(draft if draft is not None else till.current_sale(self.shop.ctx))
        if draft is not None and draft.notice:
            self.notify(draft.notice, severity="warning", timeout=8)
        return True

    def action_move(self, step: int) -> None:
        if self.draft is None or not self.draft.lines:
            return
        keys = [line.id for line in self.draft.lines]
        i = keys.index(self.selected) if self.selected in keys else len(keys) - 1
        self.selected = keys[max(0, min(len(keys) - 1, i + step))]
        self.query_one("#lines", SaleLinesView).move_cursor(keys.index(self.selected))

    def _ask(self, title: str, field: tuple[str, str, str, str], act: Callable[[str], Callable[[], object]]) -> None:
        """Ask for one value (``field``: name, label, hint, value); ``act`` reads what was typed (a ``ShopError``
        is shown and nothing is done) and gives the service call ``_do`` runs."""

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            try:
                call = act(values[field[0]])
            except ShopError as exc:
                self.notify(str(exc), severity="error")
                return
            self._do(call)

        self.app.push_screen(PromptScreen(title, [field]), done)

    def action_quantity(self) -> None:
        line = self._selected_line()
        if line is None:
            return

        def act(text: str) -> Callable[[], object]:
            qty = parse_qty(text)
            return lambda: till.set_quantity(self.shop.ctx, line.id, qty)

        self._ask(f"Quantity of {line.description}",
                  ("qty", "Quantity", "e.g. 3 or 0.25 (0 removes)", format_qty(line.quantity)), act)

    def action_remove(self) -> None:
        line = self._selected_line()
        if line is not None:
            self._do(lambda: till.remove_line(self.shop.ctx, line.id))

    def action_price(self) -> None:
        line = self._selected_line()
        if line is None:
            return

        def act(text: str) -> Callable[[], object]:
            price = parse_money(text, self.decimals, what="price")
            return lambda: till.set_price(self.shop.ctx, line.id, price)

        self._ask(f"Price of {line.description}", ("price", "Unit price",
                  "another price than the catalogue's needs a supervisor", self.money(line.unit_price)), act)

    def action_line_discount(self) -> None:
        line = self._selected_line()
        if line is None:
            return

        def act(text: str) -> Callable[[], object]:
            amount, rate = till.parse_discount(text, self.decimals)
            return lambda: till.set_line_discount(self.shop.ctx, line.id, amount, rate=rate)

        self._ask(f"Discount on {line.description}",
                  ("amount", "Discount", "amount (1.50) or percent (10%); 0 removes", ""), act)

    def action_sale_discount(self) -> None:
        if self.draft is None or self.draft.empty:
            self.notify("the sale is empty", severity="warning", timeout=3)
            return

        def act(text: str) -> Callable[[], object]:
            amount, rate = till.parse_discount(text, self.decimals)
            return lambda: till.set_sale_discount(self.shop.ctx, amount, rate=rate)

        self._ask("Discount on the whole sale",
                  ("amount", "Discount", "amount (5.00) or percent (10%); 0 removes", ""), act)

    # -- the sale as a whole ---------------------------------------------------------------------------------

    def action_void(self) -> None:
        if self.draft is None or self.draft.empty:
            if self.draft is not None and self.draft.mode == "refund":
                self._do(lambda: till.void(self.shop.ctx))
            return

        def done(yes: bool | None) -> None:
            if yes:
                self._void()

        give_back = ""
        if self.draft.payments:
            give_back = f" Then give back {self._payments_text(self.draft.payments)} paid on it."
        self.app.push_screen(ConfirmScreen(f"Void this sale of {len(self.draft.lines)} line(s)?{give_back}",
                                           yes="Void", no="Keep"), done)

    def _payments_text(self, payments) -> str:
        return " + ".join(f"{method} {self.money(amount)}" for method, amount in payments)

    def _void(self) -> None:
        def call() -> None:  # run again with a supervisor's approval when the cashier may not void
            taken = till.void(self.shop.ctx)
            if taken:
                self.notify(f"sale voided: give back {self._payments_text(taken)}", severity="warning",
                            timeout=20)
            else:
                self.notify("sale voided", timeout=3)

        self._do(call)

    def action_park(self) -> None:
        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            try:
                number = till.park(self.shop.ctx, values["note"])
            except ShopError as exc:
                self.notify(str(exc), severity="error")
                return
            self.notify(f"sale parked as #{number}; Ctrl+O resumes it", timeout=4)
            self.refresh_data()

        if self.draft is None or self.draft.empty:
            self.notify("nothing to park: the sale is empty", severity="warning", timeout=3)
            return
        self.app.push_screen(PromptScreen("Park this sale", [("note", "Note", "who it is for (optional)", "")]),
                             done)

    def action_resume(self) -> None:
        parked = till.parked_sales()
        if not parked:
            self.notify("no parked sales", severity="warning", timeout=3)
            return

        def done(draft_id: int | None) -> None:
            if draft_id is not None:
                self._do(lambda: till.resume(self.shop.ctx, draft_id))

        self.app.push_screen(ParkedScreen(parked, self.money), done)

    def action_refund(self) -> None:
        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            text = values["sale"].strip().lstrip("#")
            if text and not text.isdigit():
                self.notify(f"sale number {text!r} is not a number", severity="error")
                return
            self._do(lambda: till.start_refund(self.shop.ctx, int(text) if text else None, values["reason"]))

        self.app.push_screen(PromptScreen("Refund", [
            ("sale", "Sale #", "number on the receipt (blank: none)", ""),
            ("reason", "Reason", "required without a receipt", ""),
        ]), done)

    def action_pay(self, payment: str) -> None:
        """F7/F8/F9: the payment dialog (``PaymentScreen``) on cash, card or other. Every tender key behaves alike:
        the dialog shows the amount and Enter confirms it (a blank amount is the rest), so a stray key never charges
        a card; there a payment can be split, and a refund is paid back as the sale was paid (F7) or by a method."""
        d = self.draft
        if self.shop.server_down:
            self.notify("cannot take payment: the database server is unreachable. The sale is kept; pay once the "
                        "server is back (the top bar says when)", severity="error", timeout=6)
            return
        if d is None or d.empty:
            self.notify("nothing to pay: the sale is empty", severity="warning", timeout=3)
            return
        if self._ask_for_session(lambda: self.action_pay(payment)):
            return
        from shopkeeper.tui.screens.payment import PaymentScreen

        original = self._original_payments(d) if d.mode == "refund" else None

        def done(tenders: list | None) -> None:
            if tenders is not None:
                pay = lambda: self.complete(tenders or None, None, d.total)  # noqa: E731
                if not self._ask_for_session(pay):  # a session closed at this till while the dialog was open
                    pay()
            elif self.draft is not None and self.draft.payment_started:
                self.notify(f"{self.money(self.draft.paid)} paid so far stays on the sale; F7 pays the rest",
                            severity="warning", timeout=6)

        self.app.push_screen(PaymentScreen(
            d.total, payment, decimals=self.decimals, cash_step=self.shop.ctx.cash_rounding,
            currency=self.shop.config.shop.currency, refund=d.mode == "refund", original=original,
            taken=d.payments, take=None if d.mode == "refund" else lambda t: self._take_part(t, d.total)), done)

    def _take_part(self, tender, total: int) -> str | None:
        """A part payment from the payment dialog, kept on the open sale; None, or why it was refused. Under the
        same session rule as paying in full (``_ask_for_session``): money taken at a till with no session open, in
        a shop that keeps sessions, is asked about first."""
        if self._session_question_due():
            return ("no till session is open at this till: Esc, then F7 asks whether to open one (the sale and what "
                    "was paid stay)")
        try:
            draft = till.take_payment(self.shop.ctx, tender, expected_total=total)
        except ShopError as exc:
            self.shop.lost_server(exc)
            return str(exc)
        self.shop.data_changed()
        self.show(draft)
        return None

    def _original_payments(self, d: till.Draft) -> list[tuple[str, int]] | None:
        """How the sale a refund is against was paid, per method, or None."""
        if d.original_sale is None:
            return None
        from shopkeeper.services.sales import paid_by_method

        return paid_by_method(d.original_sale)

    def complete(self, payment, tendered: int | None, expected_total: int | None = None) -> None:
        """Commit the sale: ``payment`` is a method, the tenders of a split payment, or None (a refund paid back
        the way the sale was paid)."""
        if self.shop.server_down:
            self.notify("cannot take payment: the database server is unreachable. The sale is kept",
                        severity="error", timeout=6)
            return
        original = self.draft.original_sale if self.draft else None
        result = self.service(lambda: till.complete(self.shop.ctx, payment, tendered, expected_total=expected_total),
                              retry=lambda: self.complete(payment, tendered, expected_total))
        if result is None:
            return
        self.last_result = result
        kind = "refund" if result.kind == "return" else "sale"
        change = f", change {self.money(result.change)}" if result.change else ""
        self.notify(f"{kind} #{result.sale_id}: {self.money(abs(result.paid))} {self._paid_by(result)}{change}",
                    timeout=6)
        self.refresh_data()
        self._print(result, original)

    def _paid_by(self, result) -> str:
        """``cash``, or the tenders of a split: ``card 2.00 + cash 1.87``."""
        if len(result.payments) <= 1:
            return result.payment
        return " + ".join(f"{t.method} {self.money(t.amount)}" for t in result.payments)

    def _session_question_due(self) -> bool:
        """Whether paying now must first ask about the till session (``till_session.needs_session``): not when
        "sell without a session" was chosen for this very sale — the answer covers all its payments, a part
        payment and the rest alike."""
        from shopkeeper.services import till_session

        d = self.draft
        if d is not None and self._without_session_for == d.id:
            return False
        return self.service(lambda: till_session.needs_session(self.shop.ctx), changed=False) is True

    def _ask_for_session(self, then) -> bool:
        """Paying with no till session open at this till, in a shop that keeps them, asks to open one first (or to
        sell this sale without one); the sale stays open meanwhile. Asked once per sale, before its first payment,
        part or full. True while the question is on screen."""
        from shopkeeper.tui.screens.confirm import ChoiceScreen

        if not self._session_question_due():
            return False

        def chosen(choice: str | None) -> None:
            if choice == "open":
                from shopkeeper.tui.screens.till import open_session_dialog

                open_session_dialog(self, then=then)
            elif choice == "sell":
                self._without_session_for = self.draft.id if self.draft is not None else None
                then()

        self.app.push_screen(ChoiceScreen(
            f"No till session is open at till {self.shop.ctx.terminal}: its cash would not be in a cash-up.\n"
            "Open a session with a float first? The sale stays as it is.",
            [("sell", "Sell without a session", "s"), ("open", "Open a session", "o")]), chosen)
        return True

    def _print(self, result, original: int | None) -> None:
        from shopkeeper import printer

        config, ctx = self.shop.config, self.shop.ctx
        if not printer.configured(config):
            return
        made = self.service(lambda: printer.sale_receipt(config, ctx, result, original_sale=original), changed=False)
        if made is None:
            return
        text, kick = made

        def work() -> None:
            try:
                printer.send(config, text, kick=kick)  # the drawer opens for a sale or refund that moved cash
            except ShopError as exc:
                self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=10)

        self.run_worker(work, thread=True, group="receipt", exit_on_error=False)

    def action_reprint(self) -> None:
        """Show (and print, when a printer is configured) a receipt again, marked COPY: the last sale by default."""
        last = str(self.last_result.sale_id) if self.last_result is not None else ""

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            text = values["sale"].strip()
            if not text.isdigit() or len(text) > 12:
                self.notify(f"sale number {text!r}: a whole number from the receipt, please", severity="error",
                            timeout=5)
                return
            from shopkeeper.receipts import reprint

            receipt = self.service(lambda: reprint(int(text), self.shop.config), changed=False)
            if receipt is None:
                return
            self.app.push_screen(ReceiptScreen(receipt))
            self._print_text(receipt)

        self.app.push_screen(PromptScreen("Reprint a receipt (marked COPY)", [("sale", "Sale no.", "number", last)]),
                             done)

    def _print_text(self, text: str) -> None:
        from shopkeeper import printer

        config = self.shop.config
        if not printer.configured(config):
            return

        def work() -> None:
            try:
                printer.send(config, text)  # a copy never opens the drawer
            except ShopError as exc:
                self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=10)

        self.run_worker(work, thread=True, group="receipt", exit_on_error=False)

