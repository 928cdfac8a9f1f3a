"""Receive goods: scan or type each item of a delivery, its quantity and cost; each line posts at once."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input, Static

from shopkeeper.errors import InvalidInput
from shopkeeper.money import format_money, format_qty, parse_money, parse_qty
from shopkeeper.text import safe
from shopkeeper.tui.screens.picking import PickingScreen
from shopkeeper.tui.widgets.form import field_row, show_message
from shopkeeper.tui.widgets.scan_input import ScanAwareInput, ScanInput
from shopkeeper.tui.widgets.top_bar import TopBar


class ReceiveScreen(PickingScreen):
    TITLE = "Receive"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+s", "post", "Receive"),
    ]

    def compose(self) -> ComposeResult:
        yield TopBar(self.TITLE)
        yield Static("Goods in: scan or type a code, then quantity and cost. Enter moves on; the last Enter "
                     "(or Ctrl+S) posts.", classes="hint")
        yield field_row("Product", ScanInput(id="code"), "code")
        yield Static("no product chosen", id="product-info", classes="product-info", markup=False)
        yield field_row("Quantity", ScanAwareInput(placeholder="e.g. 12 or 2.5", id="qty", compact=True), "qty")
        yield field_row("Unit cost", ScanAwareInput(placeholder="blank: average cost", id="cost", compact=True),
                        "cost")
        yield field_row("Reference", ScanAwareInput(placeholder="delivery note, invoice", id="reference",
                                                    compact=True), "reference")
        yield Static("Received here:", classes="title")
        table = DataTable(id="received", cursor_type="none", classes="log", zebra_stripes=False)
        table.add_columns("SKU", "Name", "Qty", "Cost", "On hand", "Reference")
        yield table
        yield Footer(compact=True)

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
        text = self.query_one("#cost", Input).value
        if not text.strip():
            show_message(self, "cost", "")
            return True, None
        try:
            value = parse_money(text, self.shop.config.shop.decimals, what="cost")
        except InvalidInput as exc:
            show_message(self, "cost", f"✗ {exc.reason}")
            return False, None
        if value < 0:
            show_message(self, "cost", "✗ must not be negative")
            return False, None
        show_message(self, "cost", "")
        return True, value

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
        cells = (product.sku, product.name, format_qty(qty), format_money(used_cost, decimals), format_qty(on_hand),
                 reference)
        # a str cell would be parsed as markup: data goes in as plain Text, control characters escaped
        self.query_one("#received", DataTable).add_row(*(Text(safe(cell)) for cell in cells))
        self.notify(f"received {format_qty(qty)} {product.unit} {product.sku}; on hand now {format_qty(on_hand)}",
                    timeout=3)
        self.product = None
        self._show_product()
        for name in ("qty", "cost"):
            self.query_one(f"#{name}", Input).value = ""
            show_message(self, name, "")
        self.query_one("#code", Input).focus()
