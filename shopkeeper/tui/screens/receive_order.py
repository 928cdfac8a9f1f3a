"""Receive a delivery against a purchase order: scan what arrived, check the quantity (it starts at what the order
still expects) and the cost (it starts at the order line's), Enter posts. The table shows each line ordered vs
received, in words as well as colour (NO_COLOR=1 loses nothing): waiting, SHORT n, complete, OVER +n, and items
that are NOT ON THE ORDER. Leaving with part of the order outstanding keeps the rest open; F9 closes the order and,
after asking, cancels what did not come.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Static

from shopkeeper.errors import InvalidInput, NotFound, ShopError
from shopkeeper.money import format_money, format_qty, parse_qty
from shopkeeper.services import ordering
from shopkeeper.services import ordering_queries as oq
from shopkeeper.services.ordering import Arrival, LineView, OrderView, Receipt
from shopkeeper.tui.format import plain, qty
from shopkeeper.tui.screens.base import ShopScreen
from shopkeeper.tui.screens.confirm import ConfirmScreen
from shopkeeper.tui.screens.ordering_common import STATUS_WORDS, ListSource, in_thread
from shopkeeper.tui.screens.orders import read_order
from shopkeeper.tui.widgets.footer import ShopFooter
from shopkeeper.tui.widgets.form import field_row, read_cost, show_message
from shopkeeper.tui.widgets.scan_input import ScanAwareInput, Scanned, ScanInput
from shopkeeper.tui.widgets.top_bar import TopBar
from shopkeeper.tui.widgets.virtual_table import Column, VirtualTable

NOT_ON_ORDER = "NOT ON ORDER"


def line_state(line: LineView) -> tuple[str, str]:
    """What a line's delivery looks like, in words (and a style name for the colour that goes with them)."""
    if line.not_on_order:
        return NOT_ON_ORDER, "bad"
    if line.over:
        return f"OVER +{format_qty(line.over)}", "bad"
    if line.received >= line.quantity:
        return "complete", "good"
    if not line.outstanding:
        return f"cancelled {format_qty(line.cancelled)}", "muted"
    if line.received:
        return f"SHORT {format_qty(line.outstanding)}", "low"
    return "waiting", ""


def row_cells(row: LineView) -> list[tuple[str, str]]:
    state, _style = line_state(row)
    if row.not_on_order:
        return [(row.sku, ""), (row.name, ""), ("-", ""), (qty(row.received), ""), ("-", ""), (state, "")]
    return [(row.sku, ""), (row.name, ""), (qty(row.quantity), ""), (qty(row.received), ""),
            (qty(row.outstanding), ""), (state, "")]


class ReceiveOrderScreen(ShopScreen):
    """Goods in against order ``order_id``."""

    TITLE = "Receive order"
    NEXT_FIELD = "#qty"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+s", "post", "Receive"),
        Binding("f9", "close_order", "Close order"),
    ]

    def __init__(self, order_id: int) -> None:
        super().__init__()
        self.order_id = order_id
        self.detail: OrderView | None = None
        self.product: oq.ProductHit | None = None

    def compose(self) -> ComposeResult:
        yield TopBar(f"{self.TITLE} {self.order_id}")
        yield Static("reading the order…", id="order-head", classes="hint", markup=False)
        yield field_row("Product", ScanInput(placeholder="scan or type what arrived", id="code"), "code")
        yield Static("no product chosen", id="product-info", classes="product-info", markup=False)
        yield field_row("Quantity", ScanAwareInput(placeholder="how many arrived", id="qty", compact=True), "qty")
        yield field_row("Unit cost", ScanAwareInput(placeholder="the order line's cost", id="cost", compact=True),
                        "cost")
        columns = (Column("sku", "SKU", 11), Column("name", "Name", 0, min_width=10),
                   Column("ordered", "Ordered", 8, "right"), Column("received", "Received", 8, "right"),
                   Column("outstanding", "Missing", 8, "right"), Column("state", "State", 13))
        order_id = self.order_id
        yield VirtualTable(ListSource(columns, lambda: read_order(order_id), row_cells,
                                      lambda row: line_state(row)[1],
                                      rows=lambda detail: detail.lines if detail else []),
                           id="order-lines", classes="log", empty_text="this order has no lines")
        yield ShopFooter(compact=True)

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#order-lines", VirtualTable)

    def on_mount(self) -> None:
        self.mark_seen()
        self.query_one("#code", Input).focus()

    def refresh_data(self) -> None:
        self.table.reload()

    @on(VirtualTable.Loaded, "#order-lines")
    def _loaded(self) -> None:
        self.detail = self.table.source.loaded
        head = self.query_one("#order-head", Static)
        if self.detail is None:
            head.update(f"no purchase order {self.order_id}")
            return
        o, lines = self.detail, [x for x in self.detail.lines if not x.not_on_order]
        extras = len(self.detail.lines) - len(lines)
        complete = sum(1 for x in lines if x.received == x.quantity)
        short = sum(1 for x in lines if x.received and x.outstanding)
        waiting = sum(1 for x in lines if not x.received and x.outstanding)
        over = sum(1 for x in lines if x.over)
        parts = [o.supplier, STATUS_WORDS.get(o.status, o.status).upper(), f"{complete} complete",
                 f"{short} short", f"{waiting} waiting"]
        if over:
            parts.append(f"{over} OVER")
        if extras:
            parts.append(f"{extras} NOT ON ORDER")
        head.update(plain(" · ".join(parts)))
        if self.product is not None:
            self._show_product()

    def _line_for(self, product_id: int) -> LineView | None:
        """The line a receipt of ``product_id`` goes to (as ``ordering.receive_against`` picks it): the first
        still expecting goods, else the first; None when the order does not list the product."""
        lines = [x for x in self.detail.lines if x.product_id == product_id] if self.detail else []
        return next((x for x in lines if x.outstanding), lines[0] if lines else None)

    # -- picking ----------------------------------------------------------------------------------------------

    @on(Scanned)
    def _scanned(self, event: Scanned) -> None:
        event.stop()
        code = event.code

        def find() -> tuple[bool, Any]:
            try:
                return True, oq.product_for_code(code)
            except ShopError as exc:
                return False, exc

        in_thread(self, find, lambda result: self._found(code, *result), write=False, group="find")

    def _found(self, code: str, ok: bool, value: Any) -> None:
        if not ok:
            self.product = None
            self._show_product()
            if isinstance(value, NotFound):
                text = f"unknown code {code}: no product has this SKU or barcode — nothing received"
            else:  # a barcode with a wrong check digit (a mis-scan) says so itself
                text = f"{value} — nothing received"
            show_message(self, "code", f"✗ {text}")
            self.app.bell()
            self.notify(text, severity="error", timeout=6)
            self.query_one("#code", Input).focus()
            return
        self.pick(value)

    def pick(self, product: oq.ProductHit) -> None:
        self.product = product
        show_message(self, "code", "")
        line = self._line_for(product.id)
        decimals = self.shop.config.shop.decimals
        qty_box, cost_box = self.query_one("#qty", Input), self.query_one("#cost", Input)
        qty_box.value = format_qty(line.outstanding) if line is not None and line.outstanding else ""
        cost_box.value = format_money(line.unit_cost, decimals) if line is not None else ""
        self._show_product()
        for name in ("qty", "cost"):
            show_message(self, name, "")
        qty_box.focus()

    def _show_product(self) -> None:
        info = self.query_one("#product-info", Static)
        p = self.product
        if p is None:
            info.update("no product chosen")
            return
        line = self._line_for(p.id)
        if line is None or line.not_on_order:
            info.update(plain(f"✗ {p.sku} {p.name} is NOT ON THIS ORDER: what you receive gets a line of its own "
                              "with nothing ordered"))
            return
        state, _ = line_state(line)
        info.update(plain(f"{p.sku} {p.name} · ordered {format_qty(line.quantity)} · received "
                          f"{format_qty(line.received)} · still expected {format_qty(line.outstanding)} {p.unit}"
                          f" · {state}"))

    # -- fields -----------------------------------------------------------------------------------------------

    def _parse_qty(self) -> int | None:
        text = self.query_one("#qty", Input).value
        if not text.strip():
            show_message(self, "qty", "✗ required: how many arrived")
            return None
        try:
            value = parse_qty(text)
        except InvalidInput as exc:
            show_message(self, "qty", f"✗ {exc.reason or exc}")
            return None
        if value <= 0:
            show_message(self, "qty", "✗ more than zero")
            return None
        line = self._line_for(self.product.id) if self.product else None
        if line is not None and not line.not_on_order and value > line.outstanding:
            show_message(self, "qty", f"over-delivery: {format_qty(value - line.outstanding)} more than expected",
                         ok=True)
        else:
            show_message(self, "qty", "")
        return value

    def _parse_cost(self) -> tuple[bool, int | None]:
        return read_cost(self, self.shop.config.shop.decimals)

    @on(Input.Submitted, "#qty")
    def _qty_done(self) -> None:
        if self._parse_qty() is not None:
            self.query_one("#cost", Input).focus()

    @on(Input.Submitted, "#cost")
    def _cost_done(self) -> None:
        self.action_post()

    # -- posting ----------------------------------------------------------------------------------------------

    def action_post(self) -> None:
        product = self.product
        if product is None:
            show_message(self, "code", "✗ scan or type a product first")
            self.query_one("#code", Input).focus()
            return
        amount = self._parse_qty()
        cost_ok, cost = self._parse_cost()
        if amount is None or not cost_ok:
            return
        if self.detail is None or self.detail.status not in ordering.RECEIVING_STATUSES:
            status = STATUS_WORDS.get(self.detail.status, "") if self.detail else "not found"
            self.notify(f"order {self.order_id} is {status}: nothing can be received against it",
                        severity="warning", timeout=5)
            return
        ctx, order_id = self.shop.ctx, self.order_id
        in_thread(self, lambda: ordering.receive_against(ctx, order_id, [Arrival(product.id, amount, cost)]),
                  lambda receipt: self._posted(product, receipt))

    def _posted(self, product: oq.ProductHit, receipt: Receipt) -> None:
        got = receipt.lines[0]
        text = (f"received {format_qty(got.quantity)} {product.unit} {product.sku} at "
                f"{format_money(got.unit_cost, self.shop.config.shop.decimals)}")
        if got.flag == "not_on_order":
            self.notify(f"{text}: NOT ON THE ORDER (a line of its own)", severity="warning", timeout=6)
        elif got.flag == "over":
            self.notify(f"{text}: OVER-DELIVERY, {format_qty(got.received - got.ordered)} more than ordered",
                        severity="warning", timeout=6)
        else:
            left = max(got.ordered - got.received, 0)
            self.notify(f"{text}" + (f"; {format_qty(left)} still to come" if left else "; line complete"),
                        timeout=4)
        if receipt.status == "received":
            self.notify(f"order {self.order_id}: everything has arrived", title="Order received", timeout=6)
        self.product = None
        self._show_product()
        for name in ("qty", "cost"):
            self.query_one(f"#{name}", Input).value = ""
            show_message(self, name, "")
        self.query_one("#code", Input).focus()

    def action_close_order(self) -> None:
        """Close the order: when something is still missing, ask first (starting on No), then cancel the rest."""
        detail = self.detail
        if detail is None or detail.status not in ordering.RECEIVING_STATUSES:
            self.notify("this order is not open for receiving", severity="warning", timeout=4)
            return
        ctx, order_id = self.shop.ctx, self.order_id
        missing = [line for line in detail.lines if line.outstanding]

        def close() -> None:
            in_thread(self, lambda: ordering.close_order(ctx, order_id),
                      lambda _: self.notify(f"order {order_id} closed", timeout=4))

        if not missing:
            close()
            return
        names = ", ".join(f"{format_qty(x.outstanding)} {x.sku}" for x in missing[:4])
        more = f" and {len(missing) - 4} more" if len(missing) > 4 else ""
        self.app.push_screen(
            ConfirmScreen(f"{len(missing)} line(s) did not arrive in full: {names}{more}. Close order {order_id} "
                          "and cancel what is missing?", yes="Close, cancel the rest"),
            lambda yes: close() if yes else None)
