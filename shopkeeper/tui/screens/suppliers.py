"""Suppliers: who the shop buys from (every field of a supplier), and the products each one sells with its item
code, pack size, pack cost and whether it is the preferred supplier. A product is linked by scanning it, or by
typing its SKU or part of its name.

Reads run in the tables' thread workers (``ListSource``), writes through ``services.suppliers`` in a thread worker;
both dialogs are ``ShopModal``s, so a scanner burst into them is refused (``KeyGate``), never typed into a field.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Checkbox, Input, OptionList, Static
from textual.widgets.option_list import Option

from shopkeeper.errors import InvalidInput, ShopError
from shopkeeper.money import format_money, format_qty, parse_money, parse_qty
from shopkeeper.services import ordering_queries as oq
from shopkeeper.services import suppliers
from shopkeeper.services.suppliers import LinkInfo, SupplierInfo
from shopkeeper.tui.format import money, plain, qty
from shopkeeper.tui.screens.base import ShopModal, ShopScreen
from shopkeeper.tui.screens.confirm import ConfirmScreen
from shopkeeper.tui.screens.ordering_common import ListSource, in_thread
from shopkeeper.tui.widgets.footer import ShopFooter
from shopkeeper.tui.widgets.form import field_row, show_message
from shopkeeper.tui.widgets.scan_input import Scanned, ScanInput
from shopkeeper.tui.widgets.top_bar import TopBar
from shopkeeper.tui.widgets.virtual_table import Column, VirtualTable

DIALOG_CSS = """
SupplierForm, LinkForm { align: center middle; }
SupplierForm > Vertical, LinkForm > Vertical {
    width: 76; height: auto; max-height: 23; border: round $primary; padding: 0 1; background: $panel;
}
SupplierForm .field > Label, LinkForm .field > Label { width: 13; }
SupplierForm .field > Input, LinkForm .field > Input { width: 30; background: $background; }
LinkForm OptionList { height: auto; max-height: 6; border: none; padding: 0; }
"""


def supplier_cells(row: SupplierInfo, decimals: int) -> list[tuple[str, str]]:
    every = row.order_days or (f"every {row.review_days} d" if row.review_days else "")
    return [(row.name, ""), (row.phone or row.email or row.contact, ""), (f"{row.lead_days} d", ""),
            (every, ""), (money(row.min_order, decimals) if row.min_order else "", ""), (str(row.products), ""),
            ("yes" if row.active else "no", "")]


def link_cells(row: LinkInfo, decimals: int) -> list[tuple[str, str]]:
    return [("★" if row.preferred else "", ""), (row.sku, ""), (row.name, ""), (row.item_code, ""),
            (qty(row.pack_size), ""), (money(row.pack_cost, decimals), ""),
            (money(suppliers.unit_cost(row.pack_cost, row.pack_size), decimals), "")]


class SuppliersScreen(ShopScreen):
    """The suppliers (top) and the products of the one under the cursor (below)."""

    TITLE = "Suppliers"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("f9", "new_supplier", "New supplier"),
        Binding("ctrl+e", "edit_supplier", "Edit supplier", priority=True),
        Binding("f7", "link", "Link product"),
        Binding("ctrl+d", "unlink", "Unlink product", priority=True),
        Binding("down", "suppliers_cursor(1)", show=False),
        Binding("up", "suppliers_cursor(-1)", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.supplier: SupplierInfo | None = None

    def compose(self) -> ComposeResult:
        decimals = self.shop.config.shop.decimals
        yield TopBar(self.TITLE)
        yield Static("↑↓ supplier · Ctrl+E edit · Tab to its products, Enter changes a link",
                     classes="hint", markup=False)
        columns = (Column("name", "Supplier", 0, min_width=14), Column("contact", "Phone / email", 0, min_width=10),
                   Column("lead", "Lead", 5, "right"), Column("orders", "Orders", 10), Column("min", "Min order", 9,
                                                                                           "right"),
                   Column("products", "Prods", 5, "right"), Column("active", "Act.", 4))
        yield VirtualTable(ListSource(columns, lambda: suppliers.list_suppliers(include_inactive=True),
                                      lambda r: supplier_cells(r, decimals),
                                      lambda r: "" if r.active else "muted"),
                           id="suppliers", empty_text="no suppliers yet: F9 adds one")
        yield Static("Products", id="links-title", classes="title", markup=False)
        yield VirtualTable(self._links_source(None), id="links",
                           empty_text="no products linked: scan one, or F7 to find one")
        yield field_row("Link product", ScanInput(placeholder="scan or type a SKU: links it to this supplier",
                                                  id="code"), "code")
        yield ShopFooter(compact=True)

    def _links_source(self, supplier_id: int | None) -> ListSource:
        decimals = self.shop.config.shop.decimals
        columns = (Column("pref", "★", 1), Column("sku", "SKU", 11), Column("name", "Name", 0, min_width=10),
                   Column("code", "Item code", 9), Column("pack", "Pack", 5, "right"),
                   Column("pack_cost", "Pack cost", 9, "right"), Column("unit_cost", "Unit cost", 9, "right"))
        return ListSource(columns, (lambda: suppliers.links(supplier=supplier_id)) if supplier_id else list,
                          lambda r: link_cells(r, decimals), key=lambda r: r.product_id)

    @property
    def suppliers(self) -> VirtualTable:
        return self.query_one("#suppliers", VirtualTable)

    @property
    def links(self) -> VirtualTable:
        return self.query_one("#links", VirtualTable)

    def on_mount(self) -> None:
        self.mark_seen()
        self.query_one("#code", ScanInput).focus()  # a scan links the product at once

    def action_suppliers_cursor(self, delta: int) -> None:
        self.suppliers.action_cursor(delta)

    def refresh_data(self) -> None:
        self.suppliers.reload()
        self.links.reload()

    @on(VirtualTable.Highlighted, "#suppliers")
    def _supplier_highlighted(self, event: VirtualTable.Highlighted) -> None:
        row = event.row
        same = (row.id if row else None) == (self.supplier.id if self.supplier else None)
        self.supplier = row
        title = f"Products from {row.name} ({row.products})" if row else "Products"
        self.query_one("#links-title", Static).update(plain(title))
        if same:  # the list was read again: the links table re-reads by itself (``refresh_data``)
            return
        self.links.source = self._links_source(row.id if row else None)
        self.links.reset()

    @on(VirtualTable.Selected, "#suppliers")
    def _supplier_selected(self) -> None:
        self.action_edit_supplier()

    @on(VirtualTable.Selected, "#links")
    def _link_selected(self, event: VirtualTable.Selected) -> None:
        self._open_link(event.row)

    def action_new_supplier(self) -> None:
        self.app.push_screen(SupplierForm(None), self._saved_supplier)

    def action_edit_supplier(self) -> None:
        if self.supplier is None:
            self.notify("no supplier chosen", severity="warning", timeout=3)
            return
        self.app.push_screen(SupplierForm(self.supplier), self._saved_supplier)

    def _saved_supplier(self, saved: Any) -> None:
        if saved is not None:
            self.notify(f"saved supplier {getattr(saved, 'name', '')}", timeout=3)

    # -- links ------------------------------------------------------------------------------------------------

    def _need_supplier(self) -> SupplierInfo | None:
        if self.supplier is None:
            self.notify("choose a supplier first (↑↓ in the suppliers list), or F9 to add one", severity="warning",
                        timeout=4)
        return self.supplier

    @on(Scanned)
    def _scanned(self, event: Scanned) -> None:
        """A scan (or a code typed and Enter) links that product to the supplier in view: the link dialog opens
        with it. A code that is no product's opens the dialog with it as a search."""
        event.stop()
        supplier = self._need_supplier()
        if supplier is None:
            return
        code = event.code

        def found(hit: oq.ProductHit | None) -> None:
            self.app.push_screen(LinkForm(supplier, product=hit, search="" if hit else code))

        def find() -> oq.ProductHit | None:
            try:
                return oq.product_for_code(code)
            except ShopError:
                return None

        in_thread(self, find, found, write=False, group="find")

    def action_link(self) -> None:
        supplier = self._need_supplier()
        if supplier is not None:
            self.app.push_screen(LinkForm(supplier))

    def _open_link(self, row: LinkInfo) -> None:
        supplier = self._need_supplier()
        if supplier is not None:
            self.app.push_screen(LinkForm(supplier, product=oq.ProductHit(row.product_id, row.sku, row.name,
                                                                           row.unit), link=row))

    def action_unlink(self) -> None:
        supplier, row = self.supplier, self.links.cursor_row
        if supplier is None or row is None:
            self.notify("no linked product chosen: Tab to the products, ↑↓ to pick one", severity="warning",
                        timeout=4)
            return
        ctx = self.shop.ctx

        def answered(yes: bool | None) -> None:
            if yes:
                in_thread(self, lambda: suppliers.unlink_product(ctx, row.product_id, supplier.id),
                          lambda _: self.notify(f"{row.sku} unlinked from {supplier.name}", timeout=3))

        self.app.push_screen(ConfirmScreen(f"Unlink {row.sku} {row.name} from {supplier.name}? Orders already made "
                                           "keep their lines.", yes="Unlink"), answered)


FIELDS = [  # (name, label, placeholder)
    ("name", "Name", "required, unique"),
    ("contact", "Contact", "person to ask for"),
    ("email", "Email", ""),
    ("phone", "Phone", ""),
    ("lead_days", "Lead days", "days from order to shelf"),
    ("review_days", "Review days", "how often orders go out"),
    ("order_days", "Order days", "e.g. mon,thu (or blank)"),
    ("min_order", "Min order", "value at cost, e.g. 150.00"),
    ("notes", "Notes", ""),
]


class SupplierForm(ShopModal[Any]):
    """Add or change a supplier: every field. Enter moves to the next field, Ctrl+S (or Enter on the last) saves;
    a refused value is shown next to its field. Dismisses with what the service returned, None on Escape."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, row: SupplierInfo | None) -> None:
        super().__init__()
        self.row = row

    def _value(self, name: str, decimals: int) -> str:
        row = self.row
        if row is None:
            return {"review_days": "7", "lead_days": "1"}.get(name, "")
        value = getattr(row, name)
        if name == "min_order":
            return format_money(value, decimals) if value else ""
        return str(value)

    def compose(self) -> ComposeResult:
        decimals = self.app.config.shop.decimals  # type: ignore[attr-defined]
        with Vertical() as box:
            box.border_title = f"Supplier: {self.row.name}" if self.row else "New supplier"
            for name, label, placeholder in FIELDS:
                yield field_row(label, Input(self._value(name, decimals), placeholder=placeholder, id=name,
                                             compact=True), name)
            yield field_row("Active", Checkbox("orders go to it", self.row.active if self.row else True,
                                               id="active", compact=True), "active")
            yield Static("Enter: next field · Ctrl+S save · Esc cancel", classes="hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        names = [f[0] for f in FIELDS]
        i = names.index(event.input.id or "name")
        if i + 1 < len(names):
            self.query_one(f"#{names[i + 1]}", Input).focus()
        else:
            self.action_save()

    def _data(self) -> Any:
        from shopkeeper.services.suppliers import SupplierData

        decimals = self.app.config.shop.decimals  # type: ignore[attr-defined]
        values: dict[str, Any] = {}
        ok = True
        for name, _label, _placeholder in FIELDS:
            text = self.query_one(f"#{name}", Input).value.strip()
            show_message(self, name, "")
            try:
                if name in ("lead_days", "review_days"):
                    if not text.isdigit():
                        raise InvalidInput("a whole number of days", reason="a whole number of days")
                    values[name] = int(text)
                elif name == "min_order":
                    values[name] = parse_money(text, decimals, what="minimum order") if text else 0
                else:
                    values[name] = text
            except InvalidInput as exc:
                show_message(self, name, f"✗ {exc.reason or exc}")
                ok = False
        if not values.get("name"):
            show_message(self, "name", "✗ required")
            ok = False
        values["active"] = self.query_one("#active", Checkbox).value
        return SupplierData(**values) if ok else None

    def action_save(self) -> None:
        data = self._data()
        if data is None:
            return
        ctx, row = self.app.ctx, self.row  # type: ignore[attr-defined]

        def save() -> Any:
            if row is None:
                return suppliers.create_supplier(ctx, data)
            return suppliers.edit_supplier(ctx, row.id, data)

        def failed_field(exc: ShopError) -> bool:
            field = getattr(exc, "field", None)
            if field in {f[0] for f in FIELDS}:
                show_message(self, field, f"✗ {exc.reason or exc}")
                self.query_one(f"#{field}", Input).focus()
                return True
            return False

        self._save_in_thread(save, failed_field)

    def _save_in_thread(self, save, failed_field) -> None:
        """Save in a thread; a refused field is shown next to it, anything else as a notification."""

        def work() -> Any:
            try:
                return True, save()
            except ShopError as exc:
                return False, exc

        def done(result: tuple[bool, Any]) -> None:
            ok, value = result
            if ok:
                self.dismiss(value)
            elif not failed_field(value):
                self.notify(str(value), severity="error", timeout=6)

        in_thread(self, work, done)

    def action_cancel(self) -> None:
        self.dismiss(None)


class LinkForm(ShopModal[Any]):
    """Link a product to a supplier, or change the link: the product (already chosen by a scan, or found by typing
    its SKU or name and picking it with ↑↓ Enter), the supplier's item code, pack size, pack cost, preferred."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, supplier: SupplierInfo, *, product: oq.ProductHit | None = None,
                 link: LinkInfo | None = None, search: str = "") -> None:
        super().__init__()
        self.supplier, self.product, self.link, self.search = supplier, product, link, search
        self.hits: list[oq.ProductHit] = []

    def compose(self) -> ComposeResult:
        decimals = self.app.config.shop.decimals  # type: ignore[attr-defined]
        link = self.link
        with Vertical() as box:
            box.border_title = f"{self.supplier.name}: {'change link' if link else 'link a product'}"
            yield field_row("Product", Input(self.search, placeholder="SKU or part of the name", id="product",
                                             compact=True, disabled=self.product is not None), "product")
            yield OptionList(id="hits")
            yield Static(self._product_text(), id="chosen", classes="hint", markup=False)
            yield field_row("Item code", Input(link.item_code if link else "", placeholder="the supplier's code",
                                               id="item_code", compact=True), "item_code")
            yield field_row("Pack size", Input(format_qty(link.pack_size) if link else "1",
                                               placeholder="units per pack, e.g. 24", id="pack_size",
                                               compact=True), "pack_size")
            yield field_row("Pack cost", Input(format_money(link.pack_cost, decimals) if link else "",
                                               placeholder="cost of one pack", id="pack_cost", compact=True),
                            "pack_cost")
            yield field_row("Preferred", Checkbox("preferred supplier", link.preferred if link else False,
                                                  id="preferred", compact=True), "preferred")
            yield Static("Enter: next field · Ctrl+S save · Esc cancel", classes="hint", markup=False)

    def _product_text(self) -> str:
        p = self.product
        return f"product: {p.sku} {p.name} ({p.unit})" if p else "no product chosen yet"

    def on_mount(self) -> None:
        self.query_one("#hits", OptionList).display = self.product is None
        if self.product is None:
            self.query_one("#product", Input).focus()
            if self.search:
                self._find(self.search)
        else:
            self.query_one("#item_code", Input).focus()

    @on(Input.Changed, "#product")
    def _typed(self, event: Input.Changed) -> None:
        self._find(event.value)

    def _find(self, text: str) -> None:
        in_thread(self, lambda: oq.find_products(text), lambda hits: self._found(text, hits), write=False,
                  group="find")

    def _found(self, text: str, hits: list[oq.ProductHit]) -> None:
        if text != self.query_one("#product", Input).value:
            return  # typed on meanwhile: a newer search is on its way
        self.hits = hits
        options = self.query_one("#hits", OptionList)
        options.clear_options()
        for hit in hits:
            options.add_option(Option(plain(f"{hit.sku}  {hit.name}"), id=str(hit.id)))
        if hits:
            options.highlighted = 0
        elif self.query_one("#product", Input).value.strip():
            show_message(self, "product", "✗ no product matches")
            return
        show_message(self, "product", "")

    def on_key(self, event) -> None:
        if event.key in ("up", "down") and self.focused is self.query_one("#product", Input):
            event.stop()
            options = self.query_one("#hits", OptionList)
            options.action_cursor_up() if event.key == "up" else options.action_cursor_down()

    @on(Input.Submitted, "#product")
    def _product_submitted(self) -> None:
        options = self.query_one("#hits", OptionList)
        if options.highlighted is not None and self.hits:
            self._choose(self.hits[options.highlighted])

    @on(OptionList.OptionSelected, "#hits")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self._choose(self.hits[event.option_index])

    def _choose(self, hit: oq.ProductHit) -> None:
        self.product = hit
        self.query_one("#chosen", Static).update(plain(self._product_text()))
        show_message(self, "product", "")
        self.query_one("#item_code", Input).focus()

    @on(Input.Submitted, "#item_code")
    def _code_done(self) -> None:
        self.query_one("#pack_size", Input).focus()

    @on(Input.Submitted, "#pack_size")
    def _size_done(self) -> None:
        self.query_one("#pack_cost", Input).focus()

    @on(Input.Submitted, "#pack_cost")
    def _cost_done(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        decimals = self.app.config.shop.decimals  # type: ignore[attr-defined]
        if self.product is None:
            show_message(self, "product", "✗ choose a product: type its SKU or name, ↑↓, Enter")
            self.query_one("#product", Input).focus()
            return
        ok = True
        try:
            pack_size = parse_qty(self.query_one("#pack_size", Input).value or "1", what="pack size")
            show_message(self, "pack_size", "")
        except InvalidInput as exc:
            show_message(self, "pack_size", f"✗ {exc.reason or exc}")
            ok = False
        cost_text = self.query_one("#pack_cost", Input).value.strip()
        try:
            pack_cost = parse_money(cost_text, decimals, what="pack cost") if cost_text else 0
            show_message(self, "pack_cost", "")
        except InvalidInput as exc:
            show_message(self, "pack_cost", f"✗ {exc.reason or exc}")
            ok = False
        if not ok:
            return
        ctx, product, supplier = self.app.ctx, self.product, self.supplier  # type: ignore[attr-defined]
        item_code = self.query_one("#item_code", Input).value
        preferred = self.query_one("#preferred", Checkbox).value

        def work() -> Any:
            try:
                return True, suppliers.link_product(ctx, product.id, supplier.id, item_code=item_code,
                                                    pack_size=pack_size, pack_cost=pack_cost,
                                                    preferred=True if preferred else None if self.link is None
                                                    else False)
            except ShopError as exc:
                return False, exc

        def done(result: tuple[bool, Any]) -> None:
            ok_, value = result
            if ok_:
                self.notify(f"{product.sku} linked to {supplier.name}", timeout=3)
                self.dismiss(value)
                return
            field = getattr(value, "field", None)
            if field in ("item_code", "pack_size", "pack_cost"):
                show_message(self, field, f"✗ {value.reason or value}")
            else:
                self.notify(str(value), severity="error", timeout=6)

        in_thread(self, work, done)

    def action_cancel(self) -> None:
        self.dismiss(None)
