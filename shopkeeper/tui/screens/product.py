"""The product screen: every field, editable and checked as you type; the product's journal with the running
balance, who did it, at which till, when and why; and its change log (price, tax, average cost, unit, active)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Checkbox, Input, Static, TabbedContent, TabPane

from shopkeeper.errors import ShopError
from shopkeeper.money import (
    QTY_SCALE,
    format_money,
    format_qty,
    format_rate,
    parse_money,
    parse_qty,
    parse_rate,
    round_div,
)
from shopkeeper.services import catalog, queries
from shopkeeper.services.permissions import PermissionDenied
from shopkeeper.services.queries import ChangeRow, JournalRow, ProductDetail
from shopkeeper.text import clean, safe
from shopkeeper.tui.format import (STATUS_TEXT, local_time, money, movement_at, movement_detail, plain, qty,
                                   signed_qty, when_title)
from shopkeeper.tui.screens.base import ShopScreen
from shopkeeper.tui.screens.confirm import ChoiceScreen, ConfirmScreen
from shopkeeper.tui.widgets.footer import ShopFooter
from shopkeeper.tui.widgets.scan_input import ScanAwareInput, Scanned
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


class ProductChangeSource(CountIndex):
    """The product's change log: price, tax, average cost, unit and active flag, who, when, till, old → new."""

    columns = (
        Column("when", "When", 16),
        Column("what", "Change", 11),
        Column("old", "Was", 9, "right"),
        Column("new", "Now", 9, "right"),
        Column("who", "Who", 8),
        Column("till", "Till", 8),
        Column("note", "Note", 0, min_width=6),
    )

    def __init__(self, product_id: int, decimals: int = 2) -> None:
        self.columns = (replace(self.columns[0], title=when_title()), *self.columns[1:])
        self.product_id = product_id
        self.decimals = decimals

    def load_index(self) -> int:
        return queries.product_changes_count(self.product_id)

    def window(self, index: Any, offset: int, limit: int) -> list[ChangeRow]:
        return queries.product_changes(self.product_id, offset, limit)

    def cells(self, row: ChangeRow) -> list[tuple[str, str]]:
        what = "revaluation" if row.kind == "revaluation" else LABELS.get(row.field, row.field)
        note = row.note or ("created" if row.kind == "create" else "")
        return [
            (local_time(row.created_at), ""),
            (what, "bad" if row.kind == "revaluation" else ""),
            (catalog.change_text(row.field, row.old, self.decimals), ""),
            (catalog.change_text(row.field, row.new, self.decimals), ""),
            (row.staff or "-", ""),
            (row.terminal or "-", ""),
            (note, ""),
        ]


LABELS = {"price": "price", "tax_rate": "tax rate", "avg_cost": "avg cost", "unit": "unit", "active": "active"}


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("required")
    return clean(value, field="text").strip()


def seen_values(detail: ProductDetail) -> dict[str, object]:
    """What the screen shows of ``detail``, as ``catalog.save_product`` compares it (``seen``)."""
    return {"name": detail.name, "unit": detail.unit, "price": detail.price, "tax_rate": detail.tax_rate,
            "avg_cost": detail.avg_cost, "reorder_point": detail.reorder_point, "reorder_qty": detail.reorder_qty,
            "supplier": detail.supplier, "category": detail.category, "active": detail.active,
            "barcodes": list(detail.barcodes)}


class ProductScreen(ShopScreen):
    """Edit a product (``product_id``), or create one (``None``).

    A save sends only the fields the user changed, with the values the screen loaded: a field changed elsewhere
    meanwhile (a delivery's new average cost, another till's price) is kept, and one the user changed too is a
    conflict the user settles (keep mine / take theirs). Fields the user has not touched follow the database live.
    """

    TITLE = "Product"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+s", "save", "Save"),
        Binding("f6", "toggle_tab", "Next tab"),
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
    TABS: ClassVar[tuple[str, ...]] = ("details", "journal", "changes")

    def __init__(self, product_id: int | None = None) -> None:
        super().__init__()
        self.product_id = product_id
        self.detail: ProductDetail | None = None
        self.seen: dict[str, object] = {}
        """The stored values the form's unedited fields show (what a save compares with)."""
        self.loaded: dict[str, str] = {}
        """The text each field was given from the database: a field whose text differs was edited."""

    # -- layout -------------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TopBar(self.TITLE)
        with TabbedContent(id="tabs"):
            with TabPane("Details", id="details"):
                yield Static("", id="product-summary", classes="title", markup=False)
                for name, label, placeholder in self.FIELDS:
                    # A scan into Barcodes adds its code; into any other field it is refused (``_scanned``).
                    yield field_row(label, ScanAwareInput(placeholder=placeholder, id=name, compact=True), name)
                yield field_row("Active", Checkbox("sold and counted", True, id="active", compact=True), "active")
            with TabPane("Journal", id="journal"):
                if self.product_id is not None:
                    source = ProductJournalSource(self.product_id, self.shop.config.shop.decimals)
                    yield VirtualTable(source, id="product-journal", empty_text="no movements yet")
                    yield Static("", id="product-journal-detail", classes="detail", markup=False)
                else:
                    yield Static("A new product has no movements yet.", classes="hint")
            with TabPane("Changes", id="changes"):
                if self.product_id is not None:
                    changes = ProductChangeSource(self.product_id, self.shop.config.shop.decimals)
                    yield VirtualTable(changes, id="product-changes", empty_text="no changes logged yet")
                else:
                    yield Static("A new product has no changes yet.", classes="hint")
        yield ShopFooter(compact=True)

    @on(Scanned)
    def _scanned(self, event: Scanned) -> None:
        """A scan (taken back out of the field it was typed into, or from a scanner device): with Barcodes
        focused its code is added to the list there, keeping the codes already in it; anywhere else it is refused
        out loud rather than typed into the name or the price."""
        event.stop()
        field = self.focused
        if isinstance(field, Input) and field.id == "barcodes":
            codes = [c.strip() for c in field.value.split(",") if c.strip()]
            if event.code not in codes:
                field.value = ", ".join([*codes, event.code])
            field.cursor_position = len(field.value)
            return
        self.app.bell()
        self.notify(f"scan {event.code} NOT used: this is a product's form (a code goes in Barcodes; F2 sells)",
                    severity="error", timeout=6)

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

    def _texts(self, values: dict[str, object]) -> dict[str, str]:
        """The field texts for stored ``values``. Text stored before the text rule may hold control characters:
        shown escaped (and saved so only if the user edits that field)."""
        decimals = self.shop.config.shop.decimals
        return {
            "name": safe(str(values["name"])), "unit": safe(str(values["unit"])),
            "price": format_money(values["price"], decimals), "tax_rate": format_rate(values["tax_rate"]),
            "avg_cost": format_money(values["avg_cost"], decimals),
            "reorder_point": format_qty(values["reorder_point"]), "reorder_qty": format_qty(values["reorder_qty"]),
            "supplier": safe(str(values["supplier"])), "category": safe(str(values["category"])),
            "barcodes": safe(", ".join(values["barcodes"])),
        }

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
        self.seen = seen_values(detail)
        self.loaded = self._texts(self.seen)
        with self.prevent(Input.Changed, Checkbox.Changed):
            self.query_one("#sku", Input).value = safe(detail.sku)
            for name, text in self.loaded.items():
                self.query_one(f"#{name}", Input).value = text
                show_message(self, name, "")
            self.query_one("#active", Checkbox).value = detail.active
        self.query_one("#sku", Input).disabled = True
        self._scale_items()
        self._summary()

    def _scale_items(self) -> None:
        """Beside the barcodes: the item number to program into a scale, for a stored scale item code."""
        layouts = self.shop.config.extra.get("barcodes")
        items = [item for code in self.seen.get("barcodes", []) if (item := catalog.scale_item(code, layouts))]
        if items:
            show_message(self, "barcodes", "scale item " + ", ".join(items), ok=True)

    def _summary(self) -> None:
        d = self.detail
        if d is None:
            return
        self.query_one("#product-summary", Static).update(plain(
            f"{d.sku} · on hand {format_qty(d.on_hand)} {d.unit} · {STATUS_TEXT[d.status]} · "
            f"stock moves via F3 F4 F5 and sales"))

    def edited(self) -> list[str]:
        """The fields the user changed since they were loaded (all of them on a new product)."""
        if self.product_id is None:
            return [name for name, _, _ in self.FIELDS if name != "sku"] + ["active"]
        names = [name for name, text in self.loaded.items() if self.query_one(f"#{name}", Input).value != text]
        if self.seen and self.query_one("#active", Checkbox).value != self.seen["active"]:
            names.append("active")
        return names

    def refresh_data(self) -> None:
        """Another till or process changed the data: re-read, and show new values in the fields not edited here."""
        if self.product_id is None:
            return
        detail = queries.product_detail(self.product_id)
        if detail is not None:
            self.detail = detail
            self._summary()
            fresh = seen_values(detail)
            texts = self._texts(fresh)
            edited = set(self.edited())
            with self.prevent(Input.Changed, Checkbox.Changed):
                for name, text in texts.items():
                    if name not in edited and text != self.loaded.get(name):
                        self.query_one(f"#{name}", Input).value = text
                        show_message(self, name, "")
                        self.loaded[name], self.seen[name] = text, fresh[name]
                if "active" not in edited and fresh["active"] != self.seen.get("active"):
                    self.query_one("#active", Checkbox).value = detail.active
                    self.seen["active"] = detail.active
        for table in self.query("#product-journal, #product-changes").results(VirtualTable):
            table.reload()

    # -- validation ---------------------------------------------------------------------------------------------

    def _parsers(self) -> dict[str, Callable[[str], Any]]:
        decimals = self.shop.config.shop.decimals
        layouts = self.shop.config.extra.get("barcodes")

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
            "category": lambda t: clean(t, field="category").strip(),
            "barcodes": lambda text: catalog.product_codes(text, layouts),
        }

    def _check(self, name: str) -> tuple[bool, Any]:
        parser = self._parsers()[name]
        value = self.query_one(f"#{name}", Input).value
        try:
            parsed = parser(value)
        except ShopError as exc:
            show_message(self, name, f"✗ {exc.reason}")
            return False, None
        except ValueError as exc:
            show_message(self, name, f"✗ {exc}")
            return False, None
        if name == "barcodes":
            notes = [code.note for code in parsed if code.note]
            show_message(self, name, "; ".join(notes), ok=bool(notes))
            return True, [code.code for code in parsed]
        show_message(self, name, "")
        return True, parsed

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if event.input.id in self._parsers():
            self._check(event.input.id)

    # -- actions ------------------------------------------------------------------------------------------------

    def _data(self, fields: list[str]) -> catalog.ProductData | None:
        """The product data of ``fields``, each checked; None (with the reasons shown) if any is wrong."""
        values, ok = {}, True
        sku_ok, sku = self._check("sku") if self.product_id is None else (True, self.detail.sku)
        for name in fields:
            if name == "active":
                values[name] = self.query_one("#active", Checkbox).value
                continue
            good, values[name] = self._check(name)
            ok = ok and good
        if not (ok and sku_ok):
            self.notify("fix the fields marked ✗ first", severity="error")
            return None
        return catalog.ProductData(sku=sku, **values)

    def action_save(self) -> None:
        self._save()

    def _save(self, then: Callable[[], None] | None = None) -> None:
        """Save the edited fields; ``then`` runs once they are saved. A new average cost is confirmed first."""
        if self.product_id is not None and self.detail is None:
            return
        edited = self.edited()
        if not edited:
            self.notify("nothing changed", timeout=2)
            if then is not None:
                then()
            return
        data = self._data(edited)
        if data is None:
            return
        if self.product_id is not None and data.avg_cost is not None and data.avg_cost != self.seen["avg_cost"]:
            self._confirm_revaluation(data, then)
            return
        self._commit(data, then)

    def _confirm_revaluation(self, data: catalog.ProductData, then: Callable[[], None] | None) -> None:
        d, decimals = self.detail, self.shop.config.shop.decimals
        old, new = int(self.seen["avg_cost"]), int(data.avg_cost)
        value = round_div((new - old) * max(d.on_hand, 0), QTY_SCALE)
        question = (f"Revalue {d.sku}: average cost {format_money(old, decimals)} → {format_money(new, decimals)}. "
                    f"The {format_qty(max(d.on_hand, 0))} {d.unit} on hand change value by "
                    f"{'+' if value >= 0 else ''}{format_money(value, decimals)}; the revaluation is logged in the "
                    f"product's changes. Receipts update the average cost by themselves.")

        def answered(yes: bool | None) -> None:
            if yes:
                self._commit(data, then)

        self.app.push_screen(ConfirmScreen(question, yes="Revalue", no="Not now"), answered)

    def _commit(self, data: catalog.ProductData, then: Callable[[], None] | None) -> None:
        try:
            product = catalog.save_product(
                data, default_tax_rate=self.shop.ctx.default_tax_rate, ctx=self.shop.ctx,
                seen=self.seen if self.product_id is not None else None, new=self.product_id is None,
                layouts=self.shop.config.extra.get("barcodes"))
        except catalog.EditConflict as exc:
            self._conflict(exc, data, then)
            return
        except PermissionDenied as exc:  # a supervisor approves it here, then the save runs again
            self.shop.ask_supervisor(exc, lambda: self._commit(data, then))
            return
        except ShopError as exc:
            if exc.field in self.loaded or exc.field == "sku":
                show_message(self, exc.field, f"✗ {exc.reason}")
            self.notify(str(exc), severity="error", timeout=6)
            return
        self.shop.data_changed()
        self.notify(f"saved {product.sku}", timeout=2)
        if self.product_id is None:
            self.dismiss()
            self.shop.action_open_product(product.id)
            return
        self._load()
        if then is not None:
            then()

    def _conflict(self, exc: catalog.EditConflict, data: catalog.ProductData,
                  then: Callable[[], None] | None) -> None:
        """Fields the user changed were changed elsewhere too: keep mine (save over theirs), take theirs (show
        them, save the other edits) or stay (change nothing yet)."""
        theirs = self._texts({**self.seen, **exc.theirs})
        lines = [f"  {LABELS.get(name, name.replace('_', ' '))}: now {theirs.get(name, exc.theirs[name])}, "
                 f"yours {self.query_one(f'#{name}', Input).value if name in self.loaded else getattr(data, name)}"
                 for name in exc.theirs]
        question = f"{self.detail.sku} was changed elsewhere since you opened it:\n" + "\n".join(lines)

        def answered(choice: str | None) -> None:
            if choice == "mine":
                self.seen.update(exc.theirs)
                self._commit(data, then)
            elif choice == "theirs":
                with self.prevent(Input.Changed, Checkbox.Changed):
                    for name, value in exc.theirs.items():
                        self.seen[name] = value
                        if name == "active":
                            self.query_one("#active", Checkbox).value = bool(value)
                        else:
                            self.loaded[name] = theirs[name]
                            self.query_one(f"#{name}", Input).value = theirs[name]
                            show_message(self, name, "")
                self._save(then)

        self.app.push_screen(ChoiceScreen(question, [("mine", "Keep mine", "k"), ("theirs", "Take theirs", "t"),
                                                     ("stay", "Stay", "s")]), answered)

    def action_back(self) -> None:
        """Leaving with unsaved edits asks first: save, discard or stay."""
        if self.product_id is None:
            unsaved = any(self.query_one(f"#{name}", Input).value.strip() for name in ("sku", "name"))
        else:
            unsaved = bool(self.edited())
        if not unsaved:
            super().action_back()
            return

        def answered(choice: str | None) -> None:
            if choice == "save":
                self._save(then=super(ProductScreen, self).action_back)
            elif choice == "discard":
                super(ProductScreen, self).action_back()

        what = "this new product" if self.product_id is None else ", ".join(
            LABELS.get(name, name.replace("_", " ")) for name in self.edited())
        self.app.push_screen(ChoiceScreen(f"Unsaved changes to {what}.",
                                          [("save", "Save", "s"), ("discard", "Discard", "d"),
                                           ("stay", "Stay", "escape")]), answered)

    def action_toggle_tab(self) -> None:
        tabs = self.query_one("#tabs", TabbedContent)
        tabs.active = self.TABS[(self.TABS.index(tabs.active) + 1) % len(self.TABS)]
        if tabs.active == "details":
            self.query_one("#name", Input).focus()
        else:
            for table in self.query(f"#product-{tabs.active}").results(VirtualTable):
                table.focus()
