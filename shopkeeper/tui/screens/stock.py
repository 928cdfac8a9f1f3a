"""The stock screen: every product in a table paged from SQL, type to filter, sort by any column, and the
low-stock alert pane underneath. Both update by themselves when any process changes stock."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from shopkeeper.services import queries
from shopkeeper.services.queries import AlertRow, StockQuery, StockRow
from shopkeeper.tui.format import STATUS_MARK, STATUS_TEXT, money, qty
from shopkeeper.tui.screens.base import ShopScreen
from shopkeeper.tui.widgets.footer import ShopFooter
from shopkeeper.tui.widgets.top_bar import TopBar
from shopkeeper.tui.widgets.virtual_table import Column, CountIndex, VirtualTable

SORT_ORDER = ["name", "sku", "on_hand", "reorder_point", "price", "status", "unit"]
SORT_TITLES = {"name": "name", "sku": "SKU", "on_hand": "on hand", "reorder_point": "reorder point",
               "price": "price", "status": "status", "unit": "unit"}


class StockSource:
    """The stock table: the index is the ordered list of matching product ids (one scan, in a thread)."""

    columns = (
        Column("mark", "", 1),
        Column("sku", "SKU", 12),
        Column("name", "Name", 0, min_width=10),
        Column("on_hand", "On hand", 8, "right"),
        Column("on_order", "On order", 8, "right"),
        Column("unit", "Unit", 4),
        Column("reorder_point", "Reorder", 7, "right"),
        Column("price", "Price", 9, "right"),
        Column("status", "Status", 6),
    )

    def __init__(self, query: StockQuery, decimals: int = 2) -> None:
        self.query = query
        self.decimals = decimals

    def load_index(self) -> list[int]:
        return queries.stock_ids(self.query)

    def index_count(self, index: list[int]) -> int:
        return len(index)

    def window(self, index: list[int] | None, offset: int, limit: int) -> list[StockRow]:
        if index is None:
            return queries.stock_window(self.query, offset, limit)
        return queries.stock_rows(index[offset: offset + limit])

    def position(self, index: list[int], key: int) -> int | None:
        try:
            return index.index(key)
        except ValueError:
            return None

    def cells(self, row: StockRow) -> list[tuple[str, str]]:
        status = row.status
        return [
            (STATUS_MARK[status], ""),
            (row.sku, ""),
            (row.name, ""),
            (qty(row.on_hand), ""),
            (qty(row.on_order) if row.on_order else "", ""),
            (row.unit, ""),
            (qty(row.reorder_point) if row.reorder_point else "", ""),
            (money(row.price, self.decimals), ""),
            (STATUS_TEXT[status], ""),
        ]

    def row_style(self, row: StockRow) -> str:
        return {"low": "low", "out": "out", "inactive": "muted"}.get(row.status, "")


class AlertSource(CountIndex):
    """The low-stock pane: products at or below their reorder point, worst first, with what to order."""

    columns = (
        Column("mark", "", 1),
        Column("sku", "SKU", 12),
        Column("name", "Name", 0, min_width=10),
        Column("on_hand", "Left", 7, "right"),
        Column("on_order", "On order", 8, "right"),
        Column("reorder_point", "Reorder", 7, "right"),
        Column("suggested", "To order", 8, "right"),
        Column("supplier", "Supplier", 14),
    )

    def load_index(self) -> int:
        return queries.low_stock_count()

    def window(self, index: Any, offset: int, limit: int) -> list[AlertRow]:
        return queries.low_stock_window(offset, limit)

    def cells(self, row: AlertRow) -> list[tuple[str, str]]:
        status = "out" if row.on_hand <= 0 else "low"
        return [
            (STATUS_MARK[status], ""),
            (row.sku, ""),
            (row.name, ""),
            (f"{qty(row.on_hand)}", ""),
            (qty(row.on_order) if row.on_order else "", ""),
            (qty(row.reorder_point), ""),
            (qty(row.suggested) if row.suggested else "covered", ""),
            (row.supplier or "-", ""),
        ]

    def row_style(self, row: AlertRow) -> str:
        return "out" if row.on_hand <= 0 else "low"


class AlertTable(VirtualTable):
    """The low-stock list (a ``VirtualTable`` named for styling and tests)."""


class FilterInput(Input):
    """The stock filter. The table re-reads inside the keystroke (a watcher, not an ``Input.Changed`` message that
    arrives after the typed character has already been painted), so the character and the new rows go out in one
    frame instead of two frames a frame-period apart.

    Like ↑ ↓ PgUp PgDn (the screen's bindings), Home and End move the table's cursor from here: to the first and
    the last product. Ctrl+A and Ctrl+E still move the text cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "screen.table('first')", "First product", show=False),
        Binding("end", "screen.table('last')", "Last product", show=False),
    ]

    def watch_value(self, value: str) -> None:
        screen = self.screen if self.is_attached else None
        if isinstance(screen, StockScreen):
            screen.filter_changed(value)


class StockScreen(ShopScreen):
    TITLE = "Stock"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Clear", show=False),
        Binding("f7", "next_sort", "Sort"),
        Binding("f8", "reverse_sort", "Reverse sort", show=False),
        Binding("f9", "new_product", "New product", show=False),
        Binding("down", "table('cursor', 1)", show=False),
        Binding("up", "table('cursor', -1)", show=False),
        Binding("pagedown", "table('page', 1)", show=False),
        Binding("pageup", "table('page', -1)", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_state = StockQuery()
        self._texts: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield TopBar(self.TITLE)
        with Horizontal(id="filterbar"):
            yield Label("Find ", id="find-label")
            yield FilterInput(placeholder="name, SKU or barcode", id="filter", compact=True)
            yield Static("", id="count")
        yield VirtualTable(self._source(), sort_key=self.query_state.sort, id="stock", empty_text="no products match")
        with Vertical(id="alerts"):
            yield Static("Low stock", id="alerts-title")
            yield AlertTable(AlertSource(), id="alert-table", empty_text="nothing is low: all stocked up",
                             eager=False)  # filled just after the first frame
        yield ShopFooter(compact=True)

    def _source(self) -> StockSource:
        return StockSource(self.query_state, self.shop.config.shop.decimals)

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#stock", VirtualTable)

    @property
    def alerts(self) -> AlertTable:
        return self.query_one("#alert-table", AlertTable)

    def on_mount(self) -> None:
        self.mark_seen()
        self.query_one("#filter", Input).focus()

    def refresh_data(self) -> None:
        self.table.reload()
        self.alerts.reload()

    # -- filter and sort ----------------------------------------------------------------------------------------

    def filter_changed(self, text: str) -> None:
        """The filter text changed (``FilterInput`` calls this as the key is typed)."""
        if text != self.query_state.text:
            self._requery(StockQuery(text, self.query_state.sort, self.query_state.descending))

    def _requery(self, query: StockQuery) -> None:
        self.query_state = query
        table = self.table
        table.source = self._source()
        table.set_sort(query.sort)
        table.reset()
        self._show_count()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        """Enter in the filter opens the product: an exact SKU or barcode (a scan) first, else the cursor row."""
        code = event.value.strip()
        if code:
            from shopkeeper.errors import ShopError
            from shopkeeper.services.catalog import find_product

            try:
                product = find_product(code)
            except ShopError:
                product = None
            if product is not None:
                self.shop.action_open_product(product.id)
                return
        row = self.table.cursor_row
        if row is not None:
            self.shop.action_open_product(row.id)

    @on(VirtualTable.Selected, "#stock")
    def _open(self, event: VirtualTable.Selected) -> None:
        self.shop.action_open_product(event.row.id)

    @on(VirtualTable.Selected, "#alert-table")
    def _open_alert(self, event: VirtualTable.Selected) -> None:
        self.shop.action_open_product(event.row.product_id)

    @on(VirtualTable.Loaded)
    @on(VirtualTable.Highlighted, "#stock")
    def _show_count(self) -> None:
        table, alerts = self.table, self.alerts
        q = self.query_state
        arrow = "↓" if q.descending else "↑"
        total = f"{table.row_count:,}" if table.count_known else f"{table.row_count - 1:,}+"
        position = f"{table.cursor + 1:,}/" if table.row_count else ""
        self._set_text("#count", f"{position}{total} · by {SORT_TITLES[q.sort]} {arrow}")
        low = f"{alerts.row_count:,}" if alerts.count_known else "…"
        self._set_text("#alerts-title", f"Low stock: {low} at or below reorder point ▼ low  ✗ out   (Tab: next pane)")

    def _set_text(self, selector: str, text: str) -> None:
        """Update a label only when its text changes, and re-lay out the screen only when its width does: this
        runs on every keystroke and cursor move."""
        label = self.query_one(selector, Static)
        old = self._texts.get(selector)
        if old == text:
            return
        self._texts[selector] = text
        label.update(text, layout=old is None or len(old) != len(text))

    def action_next_sort(self) -> None:
        q = self.query_state
        sort = SORT_ORDER[(SORT_ORDER.index(q.sort) + 1) % len(SORT_ORDER)]
        self._requery(StockQuery(q.text, sort, False))
        self.notify(f"sorted by {SORT_TITLES[sort]}", timeout=1.5)

    def action_reverse_sort(self) -> None:
        q = self.query_state
        self._requery(StockQuery(q.text, q.sort, not q.descending))

    def action_table(self, method: str, *args: int) -> None:
        getattr(self.table, f"action_{method}")(*args)

    def action_back(self) -> None:
        """Escape: clear the filter (this is the home screen; nothing to back out of)."""
        box = self.query_one("#filter", Input)
        if box.value:
            box.value = ""
        box.focus()

    def action_new_product(self) -> None:
        self.shop.action_open_product(None)

    def sort_by(self, sort: str, descending: bool = False) -> None:
        """Sort by a column key of ``queries.SORT_COLUMNS`` (palette entries use this)."""
        self._requery(StockQuery(self.query_state.text, sort, descending))

    def palette_commands(self):
        yield from super().palette_commands()
        for key in SORT_ORDER:
            yield (f"Sort stock by {SORT_TITLES[key]}", "Stock table order",
                   lambda key=key: self.sort_by(key))
        yield ("Open product", "Open the product under the cursor", self.table.action_select)
