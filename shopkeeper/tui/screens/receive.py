"""Receive goods: scan or type each item of a delivery, its quantity and cost; each line posts at once."""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Static

from shopkeeper.errors import InvalidInput
from shopkeeper.money import format_money, format_qty, parse_qty
from shopkeeper.tui.screens.picking import PickingScreen
from shopkeeper.tui.widgets.footer import ShopFooter
from shopkeeper.tui.widgets.form import field_row, read_cost, show_message
from shopkeeper.tui.widgets.scan_input import ScanAwareInput, ScanInput
from shopkeeper.tui.widgets.top_bar import TopBar
from shopkeeper.tui.widgets.virtual_table import Column, CountIndex, VirtualTable


class ReceivedLine(NamedTuple):
    key: int
    sku: str
    name: str
    qty: str
    cost: str
    on_hand: str
    reference: str


class ReceivedSource(CountIndex):
    """The lines received on this screen, newest first (kept in memory: the journal has them all). Name and
    reference share the width left by the figures, so every column fits 80 columns."""

    columns = (
        Column("sku", "SKU", 12),
        Column("name", "Name", 0, min_width=10),
        Column("qty", "Qty", 8, "right"),
        Column("cost", "Cost", 9, "right"),
        Column("on_hand", "On hand", 9, "right"),
        Column("reference", "Reference", 0, min_width=9),
    )

    def __init__(self) -> None:
        self.lines: list[ReceivedLine] = []

    def add(self, line: ReceivedLine) -> None:
        self.lines.insert(0, line)

    def load_index(self) -> int:
        return len(self.lines)

    def window(self, index: Any, offset: int, limit: int) -> list[ReceivedLine]:
        return self.lines[offset: offset + limit]

    def cells(self, row: ReceivedLine) -> list[tuple[str, str]]:
        return [(row.sku, ""), (row.name, ""), (row.qty, ""), (row.cost, ""), (row.on_hand, ""),
                (row.reference, "")]


class ReceiveScreen(PickingScreen):
    TITLE = "Receive"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+s", "post", "Receive"),
        Binding("f9", "against_order", "Against an order"),
    ]

    def __init__(self, product_id: int | None = None) -> None:
        super().__init__(product_id)
        self.received = ReceivedSource()

    def compose(self) -> ComposeResult:
        yield TopBar(self.TITLE)
        yield Static("Goods in: scan or type a code, then quantity and cost. Enter moves on; the last Enter "
                     "(or Ctrl+S) posts. F9: a delivery for a purchase order.", classes="hint")
        yield field_row("Product", ScanInput(id="code"), "code")
        yield Static("no product chosen", id="product-info", classes="product-info", markup=False)
        yield field_row("Quantity", ScanAwareInput(placeholder="e.g. 12 or 2.5", id="qty", compact=True), "qty")
        yield field_row("Unit cost", ScanAwareInput(placeholder="blank: average cost", id="cost", compact=True),
                        "cost")
        yield field_row("Reference", ScanAwareInput(placeholder="delivery note, invoice", id="reference",
                                                    compact=True), "reference")
        yield Static("Received here:", classes="title")
        yield VirtualTable(self.received, id="received", classes="log", empty_text="nothing received yet")
        yield ShopFooter(compact=True)

    def _parse_qty(self) -> int | None:
        text = self.query_one("#qty", Input).value
        try:
            value = parse_qty(text)
        except InvalidInput as exc:
            show_message(self, "qty", f"✗ {exc.reason}" if text.strip() else "✗ required")
            return None
        if value <= 0:
            show_message(self, "qty", "✗ must be more than zero")
            return None
        show_message(self, "qty", "")
        return value

    def _parse_cost(self) -> tuple[bool, int | None]:
        return read_cost(self, self.shop.config.shop.decimals)

    @on(Input.Changed, "#qty")
    def _qty_changed(self) -> None:
        if self.query_one("#qty", Input).value.strip():
            self._parse_qty()

    @on(Input.Changed, "#cost")
    def _cost_changed(self) -> None:
        self._parse_cost()

    @on(Input.Submitted, "#qty")
    def _qty_done(self) -> None:
        if self._parse_qty() is not None:
            self.query_one("#cost", Input).focus()

    @on(Input.Submitted, "#cost")
    def _cost_done(self) -> None:
        if self._parse_cost()[0]:
            self.query_one("#reference", Input).focus()

    @on(Input.Submitted, "#reference")
    def _reference_done(self) -> None:
        self.action_post()

    def action_against_order(self) -> None:
        """A delivery for a purchase order: the orders waiting for goods; Enter opens one, F3 receives against it."""
        from shopkeeper.tui.screens.orders import OrdersScreen

        self.app.push_screen(OrdersScreen(status="sent,partly_received"))

    def action_post(self) -> None:
        from shopkeeper.services.stock import receive

        product = self.require_product()
        qty = self._parse_qty()
        cost_ok, cost = self._parse_cost()
        if product is None or qty is None or not cost_ok:
            return
        reference = self.query_one("#reference", Input).value.strip()
        posted = self.service(lambda: receive(self.shop.ctx, product.sku, qty, cost, reference=reference))
        if posted is None:
            return
        on_hand = posted.on_hand.get(product.id, product.on_hand + qty)
        decimals = self.shop.config.shop.decimals
        used_cost = posted.unit_costs[0] if posted.unit_costs else cost or 0
        self.received.add(ReceivedLine(len(self.received.lines), product.sku, product.name, format_qty(qty),
                                       format_money(used_cost, decimals), format_qty(on_hand), reference))
        self.query_one("#received", VirtualTable).reset()
        self.notify(f"received {format_qty(qty)} {product.unit} {product.sku}; on hand now {format_qty(on_hand)}",
                    timeout=3)
        self.product = None
        self._show_product()
        for name in ("qty", "cost"):
            self.query_one(f"#{name}", Input).value = ""
            show_message(self, name, "")
        self.query_one("#code", Input).focus()
