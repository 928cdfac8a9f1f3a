"""The product screen: every field, editable and checked as you type, and the product's journal with the
running balance, who did it, at which till, when and why."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Checkbox, Input, Static, TabbedContent, TabPane

from shopkeeper.errors import ShopError
from shopkeeper.money import format_money, format_qty, format_rate, parse_money, parse_qty, parse_rate
from shopkeeper.services import queries
from shopkeeper.services.queries import JournalRow, ProductDetail
from shopkeeper.text import clean, safe
from shopkeeper.tui.format import (STATUS_TEXT, local_time, money, movement_at, movement_detail, plain, qty,
                                   signed_qty, when_title)
from shopkeeper.tui.screens.base import ShopScreen
from shopkeeper.tui.widgets.footer import ShopFooter
from shopkeeper.tui.widgets.form import field_row, show_message
from shopkeeper.tui.widgets.top_bar import TopBar
from shopkeeper.tui.widgets.virtual_table import Column, CountIndex, VirtualTable


class ProductJournalSource(CountIndex):
    columns = (
        Column("when", "When", 16),
        Column("kind", "Kind", 7),
        Column("qty", "Qty", 8, "right"),
        Column("balance", "Balance", 8, "right"),
        Column("at", "@ cost/pr", 9, "right"),
        Column("who", "Who", 8),
        Column("till", "Till", 8),
        Column("reason", "Reason", 0, min_width=6),
    )

    def __init__(self, product_id: int, decimals: int = 2) -> None:
        self.columns = (replace(self.columns[0], title=when_title()), *self.columns[1:])
        self.product_id = product_id
        self.decimals = decimals

    def load_index(self) -> int:
        return queries.product_journal_count(self.product_id)

    def window(self, index: Any, offset: int, limit: int) -> list[JournalRow]:
        return queries.product_journal(self.product_id, offset, limit)

    def cells(self, row: JournalRow) -> list[tuple[str, str]]:
        at = movement_at(row)
        reason = row.reason or row.reference
        return [
            (local_time(row.created_at), ""),
            (row.kind, ""),
            (signed_qty(row.quantity), "good" if row.quantity > 0 else "bad"),
            (qty(row.balance), "out" if (row.balance or 0) < 0 else ""),
            (money(at, self.decimals), ""),
            (row.staff or "-", ""),
            (row.terminal or "-", ""),
            (reason, ""),
        ]


_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-./]*$")


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("required")
    return clean(value, field="text").strip()


def _barcodes(value: str) -> list[str]:
    from shopkeeper.barcodes import validate_gtin

    codes = [c for c in re.split(r"[,\s]+", value.strip()) if c]
    for code in codes:
        if not _CODE.match(code):
            raise ValueError(f"{code!r}: letters, digits, - . / only")
        if code.isdigit() and len(code) in (8, 12, 13, 14):
            try:
                validate_gtin(code)
            except ShopError as exc:
                raise ValueError(str(exc)) from None
    return codes


class ProductScreen(ShopScreen):
    """Edit a product (``product_id``), or create one (``None``)."""

    TITLE = "Product"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+s", "save", "Save"),
        Binding("f6", "toggle_tab", "Details/Journal"),
    ]

    FIELDS: ClassVar[list[tuple[str, str, str]]] = [
        # name, label, placeholder
        ("sku", "SKU", "e.g. MILK-1L"),
        ("name", "Name", ""),
        ("unit", "Unit", "pcs, kg, l"),
        ("price", "Price", "0.00"),
        ("tax_rate", "Tax rate %", "20"),
        ("avg_cost", "Average cost", "0.00"),
        ("reorder_point", "Reorder at", "0 = never low"),
        ("reorder_qty", "Reorder qty", "order in packs of"),
        ("supplier", "Supplier", "name (new ones are added)"),
        ("category", "Category", ""),
        ("barcodes", "Barcodes", "codes, comma separated"),
    ]

    def __init__(self, product_id: int | None = None) -> None:
        super().__init__()
        self.product_id = product_id
        self.detail: ProductDetail | None = None

    # -- layout -------------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TopBar(self.TITLE)
        with TabbedContent(id="tabs"):
            with TabPane("Details", id="details"):
                yield Static("", id="product-summary", classes="title", markup=False)
                for name, label, placeholder in self.FIELDS:
                    yield field_row(label, Input(placeholder=placeholder, id=name, compact=True), name)
                yield field_row("Active", Checkbox("sold and counted", True, id="active", compact=True), "active")
            with TabPane("Journal", id="journal"):
                if self.product_id is not None:
                    source = ProductJournalSource(self.product_id, self.shop.config.shop.decimals)
                    yield VirtualTable(source, id="product-journal", empty_text="no movements yet")
                    yield Static("", id="product-journal-detail", classes="detail", markup=False)
                else:
                    yield Static("A new product has no movements yet.", classes="hint")
        yield ShopFooter(compact=True)

    def on_mount(self) -> None:
        self.mark_seen()
        self._load()
        first = "#name" if self.product_id is not None else "#sku"
        self.query_one(first, Input).focus()

    def context_product(self) -> int | None:
        return self.product_id

    @on(VirtualTable.Highlighted, "#product-journal")
    def _show_movement(self, event: VirtualTable.Highlighted) -> None:
        text = "" if event.row is None else movement_detail(event.row, self.shop.config.shop.decimals,
                                                                with_product=False)
        self.query_one("#product-journal-detail", Static).update(plain(text))

    def _load(self) -> None:
        if self.product_id is None:
            self.query_one("#product-summary", Static).update("New product: fill in the fields, Ctrl+S saves")
            self.query_one("#unit", Input).value = "pcs"
            self.query_one("#tax_rate", Input).value = format_rate(self.shop.ctx.default_tax_rate)
            return
        detail = queries.product_detail(self.product_id)
        if detail is None:
            self.notify(f"product {self.product_id} no longer exists", severity="error")
            return
        self.detail = detail
        decimals = self.shop.config.shop.decimals
        values = {
            "sku": detail.sku, "name": detail.name, "unit": detail.unit, "price": format_money(detail.price, decimals),
            "tax_rate": format_rate(detail.tax_rate), "avg_cost": format_money(detail.avg_cost, decimals),
            "reorder_point": format_qty(detail.reorder_point), "reorder_qty": format_qty(detail.reorder_qty),
            "supplier": detail.supplier, "category": detail.category, "barcodes": ", ".join(detail.barcodes),
        }
        with self.prevent(Input.Changed):
            for name, value in values.items():
                # a name stored before the text rule may hold control characters: shown (and saved) escaped
                self.query_one(f"#{name}", Input).value = safe(value)
        sku = self.query_one("#sku", Input)
        sku.disabled = True
        self.query_one("#active", Checkbox).value = detail.active
        self._summary()

    def _summary(self) -> None:
        d = self.detail
        if d is None:
            return
        self.query_one("#product-summary", Static).update(plain(
            f"{d.sku} · on hand {format_qty(d.on_hand)} {d.unit} · {STATUS_TEXT[d.status]} · "
            f"stock moves via F3 F4 F5 and sales"))

    def refresh_data(self) -> None:
        if self.product_id is None:
            return
        detail = queries.product_detail(self.product_id)
        if detail is not None:
            self.detail = detail
            self._summary()
        for table in self.query("#product-journal").results(VirtualTable):
            table.reload()

    # -- validation ---------------------------------------------------------------------------------------------

    def _parsers(self) -> dict[str, Callable[[str], Any]]:
        decimals = self.shop.config.shop.decimals

        def nonneg_money(what: str) -> Callable[[str], int]:
            def parse(text: str) -> int:
                value = parse_money(text or "0", decimals, what=what)
                if value < 0:
                    raise ValueError("must not be negative")
                return value
            return parse

        def nonneg_qty(text: str) -> int:
            value = parse_qty(text or "0")
            if value < 0:
                raise ValueError("must not be negative")
            return value

        return {
            "sku": _text, "name": _text, "unit": _text,
            "price": nonneg_money("price"), "tax_rate": lambda t: parse_rate(t or "0"),
            "avg_cost": nonneg_money("cost"), "reorder_point": nonneg_qty, "reorder_qty": nonneg_qty,
            "supplier": lambda t: clean(t, field="supplier").strip(),
            "category": lambda t: clean(t, field="category").strip(), "barcodes": _barcodes,
        }

    def _check(self, name: str) -> tuple[bool, Any]:
        parser = self._parsers()[name]
        value = self.query_one(f"#{name}", Input).value
        try:
            parsed = parser(value)
        except (ValueError, ShopError) as exc:
            text = exc.reason if isinstance(exc, ShopError) and exc.field else str(exc)
            head, sep, rest = text.partition(": ")
            if sep and head in ("price", "cost", "quantity", "tax rate"):
                text = rest  # "price: 'x' is not a number" → "'x' is not a number"
            show_message(self, name, f"✗ {text}")
            return False, None
        show_message(self, name, "")
        return True, parsed

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if event.input.id in self._parsers():
            self._check(event.input.id)

    # -- actions ------------------------------------------------------------------------------------------------

    def action_save(self) -> None:
        from shopkeeper.services.catalog import ProductData, save_product

        values, ok = {}, True
        for name in self._parsers():
            good, parsed = self._check(name)
            ok = ok and good
            values[name] = parsed
        if not ok:
            self.notify("fix the fields marked ✗ first", severity="error")
            return
        if self.product_id is None and queries.product_id_for_sku(values["sku"]) is not None:
            show_message(self, "sku", f"✗ {values['sku']} already exists")
            return
        data = ProductData(
            sku=self.detail.sku if self.detail is not None else values["sku"],  # the key as stored, not as shown
            name=values["name"], unit=values["unit"], price=values["price"],
            tax_rate=values["tax_rate"], avg_cost=values["avg_cost"], reorder_point=values["reorder_point"],
            reorder_qty=values["reorder_qty"], supplier=values["supplier"], category=values["category"],
            active=self.query_one("#active", Checkbox).value, barcodes=values["barcodes"])
        try:
            product = save_product(data, default_tax_rate=self.shop.ctx.default_tax_rate)
        except ShopError as exc:
            text = str(exc)
            if "barcode" in text:
                show_message(self, "barcodes", f"✗ {text.split(': ', 1)[-1]}")
            self.notify(text, severity="error", timeout=6)
            return
        self.shop.data_changed()
        self.notify(f"saved {product.sku}", timeout=2)
        if self.product_id is None:
            self.dismiss()
            self.shop.action_open_product(product.id)

    def action_toggle_tab(self) -> None:
        tabs = self.query_one("#tabs", TabbedContent)
        tabs.active = "journal" if tabs.active == "details" else "details"
        if tabs.active == "journal":
            for table in self.query("#product-journal").results(VirtualTable):
                table.focus()
        else:
            self.query_one("#name", Input).focus()
