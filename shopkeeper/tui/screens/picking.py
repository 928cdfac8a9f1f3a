"""What Receive, Adjust and Count share: a product picked by typing or scanning its code."""

from __future__ import annotations

from textual import on
from textual.widgets import Input, Static

from shopkeeper.errors import ShopError
from shopkeeper.money import format_money, format_qty
from shopkeeper.services import queries
from shopkeeper.services.queries import ProductDetail
from shopkeeper.tui.format import STATUS_TEXT, plain
from shopkeeper.tui.screens.base import ShopScreen
from shopkeeper.tui.widgets.form import show_message
from shopkeeper.tui.widgets.scan_input import Scanned


class PickingScreen(ShopScreen):
    """A screen with a ``ScanInput`` ``#code``, a ``Static`` ``#product-info`` and a next field to focus.

    Any scan (typed + Enter in the code field, a wedge burst into any field, an evdev scanner) picks the product.
    """

    NEXT_FIELD = "#qty"

    def __init__(self, product_id: int | None = None) -> None:
        super().__init__()
        self.product: ProductDetail | None = None
        self._initial_product = product_id

    def on_mount(self) -> None:
        self.mark_seen()
        if self._initial_product is not None:
            self.pick(queries.product_detail(self._initial_product))
        else:
            self.query_one("#code", Input).focus()

    def context_product(self) -> int | None:
        return self.product.id if self.product else None

    @on(Scanned)
    def _scanned(self, event: Scanned) -> None:
        event.stop()
        from shopkeeper.services.catalog import find_product

        try:
            product = find_product(event.code)
        except ShopError as exc:
            show_message(self, "code", f"✗ {exc}")
            self.notify(str(exc), severity="error", timeout=4)
            self.query_one("#code", Input).focus()
            return
        self.pick(queries.product_detail(product.id))
        self.on_picked_again(event)

    def on_picked_again(self, event: Scanned) -> None:
        """Hook: a product was just picked by a scan."""

    def pick(self, detail: ProductDetail | None) -> None:
        self.product = detail
        show_message(self, "code", "")
        self._show_product()
        if detail is not None:
            self.query_one(self.NEXT_FIELD).focus()

    def _show_product(self) -> None:
        d = self.product
        info = self.query_one("#product-info", Static)
        if d is None:
            info.update("no product chosen")
            return
        decimals = self.shop.config.shop.decimals
        info.update(plain(f"{d.sku}  {d.name} · on hand {format_qty(d.on_hand)} {d.unit} · "
                          f"avg cost {format_money(d.avg_cost, decimals)} · {STATUS_TEXT[d.status]}"))

    def refresh_data(self) -> None:
        if self.product is not None:
            self.product = queries.product_detail(self.product.id)
            self._show_product()

    def require_product(self) -> ProductDetail | None:
        if self.product is None:
            show_message(self, "code", "✗ scan or type a product first")
            self.query_one("#code", Input).focus()
        return self.product
