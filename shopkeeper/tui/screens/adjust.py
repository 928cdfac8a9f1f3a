"""Adjust stock for a reason: damaged, expired, lost, stolen, found, correction. The reason is required."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Select, Static

from shopkeeper.errors import InvalidInput
from shopkeeper.money import format_qty, parse_qty
from shopkeeper.services.stock import ADJUST_REASONS
from shopkeeper.tui.format import plain
from shopkeeper.tui.screens.picking import PickingScreen
from shopkeeper.tui.widgets.footer import ShopFooter
from shopkeeper.tui.widgets.form import field_row, show_message
from shopkeeper.tui.widgets.scan_input import ScanAwareInput, ScanInput
from shopkeeper.tui.widgets.top_bar import TopBar


class AdjustScreen(PickingScreen):
    TITLE = "Adjust"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+s", "post", "Post adjustment"),
    ]

    def compose(self) -> ComposeResult:
        yield TopBar(self.TITLE)
        yield Static("Correct stock: a change like -2 (damaged) or +1 (found), and a reason. Ctrl+S posts.",
                     classes="hint")
        yield field_row("Product", ScanInput(id="code"), "code")
        yield Static("no product chosen", id="product-info", classes="product-info", markup=False)
        yield field_row("Change", ScanAwareInput(placeholder="e.g. -2 or +1", id="qty", compact=True), "qty")
        yield field_row("Reason", Select([(r, r) for r in ADJUST_REASONS], prompt="choose (required)",
                                         id="reason", compact=True), "reason")
        yield field_row("Note", ScanAwareInput(placeholder="optional", id="note", compact=True), "note")
        yield Static("", id="adjust-result", classes="hint", markup=False)
        yield ShopFooter(compact=True)

    def _parse_delta(self) -> int | None:
        text = self.query_one("#qty", Input).value
        if not text.strip():
            show_message(self, "qty", "✗ required: how much more (+) or less (-)")
            return None
        try:
            value = parse_qty(text)
        except InvalidInput as exc:
            show_message(self, "qty", f"✗ {exc.reason}")
            return None
        if value == 0:
            show_message(self, "qty", "✗ a change of zero changes nothing")
            return None
        show_message(self, "qty", "")
        return value

    def _reason(self) -> str | None:
        value = self.query_one("#reason", Select).value
        if value is Select.NULL:
            show_message(self, "reason", "✗ required: why does stock change?")
            return None
        show_message(self, "reason", "")
        return str(value)

    @on(Input.Changed, "#qty")
    def _qty_changed(self) -> None:
        if self.query_one("#qty", Input).value.strip():
            self._parse_delta()

    @on(Select.Changed, "#reason")
    def _reason_changed(self) -> None:
        self._reason()

    @on(Input.Submitted, "#qty")
    def _qty_done(self) -> None:
        if self._parse_delta() is not None:
            self.query_one("#reason", Select).focus()

    @on(Input.Submitted, "#note")
    def _note_done(self) -> None:
        self.action_post()

    def action_post(self) -> None:
        from shopkeeper.services.stock import adjust

        product = self.require_product()
        delta = self._parse_delta()
        reason = self._reason()
        if product is None or delta is None or reason is None:
            return
        note = self.query_one("#note", Input).value
        posted = self.service(lambda: adjust(self.shop.ctx, product.sku, delta, reason, note=note),
                              retry=self.action_post)
        if posted is None:
            return
        on_hand = posted.on_hand.get(product.id, product.on_hand + delta)
        sign = "+" if delta > 0 else ""
        text = f"{product.sku}: {sign}{format_qty(delta)} ({reason}); on hand now {format_qty(on_hand)}"
        self.query_one("#adjust-result", Static).update(plain(f"Posted: {text}"))
        self.notify(f"adjusted {text}", timeout=3)
        self.product = None
        self._show_product()
        self.query_one("#qty", Input).value = ""
        self.query_one("#note", Input).value = ""
        show_message(self, "qty", "")
        self.query_one("#reason", Select).clear()
        show_message(self, "reason", "")
        self.query_one("#code", Input).focus()
