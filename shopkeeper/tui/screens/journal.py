"""The journal: every stock movement, newest first, filtered by kind, product, staff, terminal and date range."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, Static

from shopkeeper.errors import ShopError
from shopkeeper.services import queries
from shopkeeper.services.queries import JournalFilter, JournalRow
from shopkeeper.services.stock import KINDS
from shopkeeper.text import safe
from shopkeeper.tui.format import (local_day_bounds, local_time, money, movement_at, movement_detail, plain,
                                   signed_qty, when_title)
from shopkeeper.tui.screens.base import ShopScreen
from shopkeeper.tui.widgets.footer import ShopFooter
from shopkeeper.tui.widgets.top_bar import TopBar
from shopkeeper.tui.widgets.virtual_table import Column, CountIndex, VirtualTable


KIND_CELLS = {"supplier_return": "to supp"}
"""Movement kinds longer than the Kind column, as the column shows them (the filter and the detail line name them
in full)."""


class JournalSource(CountIndex):
    columns = (
        Column("when", "When", 16),
        Column("sku", "SKU", 11),
        Column("kind", "Kind", 7),
        Column("qty", "Qty", 8, "right"),
        Column("at", "@", 8, "right"),
        Column("who", "Who", 7),
        Column("till", "Till", 7),
        Column("reason", "Reason", 0, min_width=6),
    )

    def __init__(self, flt: JournalFilter, decimals: int = 2) -> None:
        self.columns = (replace(self.columns[0], title=when_title()), *self.columns[1:])
        self.filter = flt
        self.decimals = decimals

    def load_index(self) -> int:
        return queries.journal_count(self.filter)

    def window(self, index: Any, offset: int, limit: int) -> list[JournalRow]:
        return queries.journal_window(self.filter, offset, limit)

    def cells(self, row: JournalRow) -> list[tuple[str, str]]:
        at = movement_at(row)
        return [
            (local_time(row.created_at), ""), (row.sku, ""), (KIND_CELLS.get(row.kind, row.kind), ""),
            (signed_qty(row.quantity), "good" if row.quantity > 0 else "bad"),
            (money(at, self.decimals), ""), (row.staff or "-", ""), (row.terminal or "-", ""),
            (row.reason or row.reference, ""),
        ]


class JournalScreen(ShopScreen):
    TITLE = "Journal"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+s", "apply", "Apply filters"),
        Binding("ctrl+r", "clear", "Clear filters"),
        Binding("ctrl+t", "all_dates", "All dates"),
    ]

    def __init__(self, product_id: int | None = None, *, days: tuple[dt.date, dt.date] | None = None) -> None:
        """``days``: open at these local days, inclusive (a report's range, drilled from); Ctrl+T shows all."""
        super().__init__()
        self.days = days
        since, until = ("", "") if days is None else (local_day_bounds(days[0].isoformat()),
                                                      local_day_bounds(days[1].isoformat(), end=True))
        self.filter = JournalFilter(product_id=product_id, since=since, until=until)

    def compose(self) -> ComposeResult:
        yield TopBar(self.TITLE)
        staff = [(plain(n), n) for n in queries.staff_names(active_only=False)]
        terminals = [(plain(n), n) for n in queries.terminal_names()]
        with Vertical(id="journal-filters"):
            with Horizontal():
                yield Label("Kind")
                yield Select([(k, k) for k in KINDS], prompt="any", id="kind", compact=True)
                yield Label("Staff")
                yield Select(staff, prompt="anyone", id="staff", compact=True)
                yield Label("Till")
                yield Select(terminals, prompt="any", id="terminal", compact=True)
            with Horizontal():
                yield Label("Product")
                yield Input(placeholder="SKU/barcode", id="product", compact=True)
                yield Label("From")
                yield Input(placeholder="YYYY-MM-DD", id="since", compact=True)
                yield Label("To")
                yield Input(placeholder="YYYY-MM-DD", id="until", compact=True)
        yield Static("", id="journal-message", markup=False)
        yield VirtualTable(JournalSource(self.filter, self.shop.config.shop.decimals), id="journal-table",
                           empty_text="no movements match")
        yield Static("", id="journal-detail", classes="detail", markup=False)
        yield ShopFooter(compact=True)

    def on_mount(self) -> None:
        self.mark_seen()
        if self.filter.product_id is not None:
            detail = queries.product_detail(self.filter.product_id)
            if detail is not None:
                self.query_one("#product", Input).value = safe(detail.sku)
        if self.days is not None:
            with self.prevent(Input.Changed):
                self.query_one("#since", Input).value = self.days[0].isoformat()
                self.query_one("#until", Input).value = self.days[1].isoformat()
            self.query_one("#journal-message", Static).update(
                f"the report's days, {self.days[0]} to {self.days[1]} · Ctrl+T: all dates")
        self.query_one("#journal-table", VirtualTable).focus()

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#journal-table", VirtualTable)

    def refresh_data(self) -> None:
        self.table.reload()

    @on(VirtualTable.Highlighted, "#journal-table")
    def _show_detail(self, event: VirtualTable.Highlighted) -> None:
        text = "" if event.row is None else movement_detail(event.row, self.shop.config.shop.decimals)
        self.query_one("#journal-detail", Static).update(plain(text))

    @on(Select.Changed)
    def _select_changed(self) -> None:
        self.action_apply()

    @on(Input.Submitted)
    def _input_submitted(self) -> None:
        self.action_apply()

    def _read_filter(self) -> JournalFilter | None:
        def value(select_id: str) -> str:
            v = self.query_one(f"#{select_id}", Select).value
            return "" if v is Select.NULL else str(v)

        message = self.query_one("#journal-message", Static)
        product_id = None
        code = self.query_one("#product", Input).value.strip()
        if code:
            from shopkeeper.services.catalog import find_product

            try:
                product_id = find_product(code).id
            except ShopError as exc:
                message.update(plain(f"✗ product: {exc}"))
                return None
        try:
            since_text = self.query_one("#since", Input).value.strip()
            until_text = self.query_one("#until", Input).value.strip()
            since = local_day_bounds(since_text, what="From") if since_text else ""
            until = local_day_bounds(until_text, end=True, what="To") if until_text else ""
        except ValueError as exc:
            message.update(plain(f"✗ {exc}"))
            return None
        if since and until and since >= until:
            message.update("✗ date: 'From' is after 'To'")
            return None
        message.update("")
        kind = value("kind")
        return JournalFilter(kinds=(kind,) if kind else (), product_id=product_id, staff=value("staff"),
                             terminal=value("terminal"), since=since, until=until)

    def action_apply(self) -> None:
        flt = self._read_filter()
        if flt is None or flt == self.filter:
            return
        self.filter = flt
        self.table.source = JournalSource(flt, self.shop.config.shop.decimals)
        self.table.reset()

    def action_clear(self) -> None:
        with self.prevent(Select.Changed, Input.Changed):
            for select_id in ("kind", "staff", "terminal"):
                self.query_one(f"#{select_id}", Select).clear()
            for input_id in ("product", "since", "until"):
                self.query_one(f"#{input_id}", Input).value = ""
        self.action_apply()

    def action_all_dates(self) -> None:
        """Drop the date range only (a report's, drilled from): every day of the other filters."""
        with self.prevent(Input.Changed):
            for input_id in ("since", "until"):
                self.query_one(f"#{input_id}", Input).value = ""
        self.action_apply()

    def context_product(self) -> int | None:
        return self.filter.product_id
