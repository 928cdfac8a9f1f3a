"""Purchase orders: the list (filtered by status), one order with its lines, and the dialogs to start an order and
to change a line. Receiving against an order is ``screens.receive_order``.

Every read runs in the tables' thread workers (``ListSource``), every write through ``services.ordering`` in a
thread worker (``in_thread``); each dialog is a ``ShopModal``, so the app's ``KeyGate`` refuses a scanner burst
into it. Each step that cannot be undone (send, close short, cancel, remove a line) asks first, starting on No.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from shopkeeper.errors import InvalidInput
from shopkeeper.money import format_money, format_qty, parse_money, parse_qty
from shopkeeper.errors import NotFound
from shopkeeper.services import ordering, suppliers
from shopkeeper.services import ordering_queries as oq
from shopkeeper.services.ordering import LineView, OrderSummary, OrderView
from shopkeeper.services.suppliers import SupplierInfo
from shopkeeper.tui.format import local_time, money, plain, qty
from shopkeeper.tui.screens.base import ShopModal, ShopScreen
from shopkeeper.tui.screens.confirm import ConfirmScreen
from shopkeeper.tui.screens.ordering_common import STATUS_WORDS, ListSource, in_thread, order_folder
from shopkeeper.tui.widgets.footer import ShopFooter
from shopkeeper.tui.widgets.form import field_row, show_message
from shopkeeper.tui.widgets.scan_input import ScanAwareInput, Scanned, ScanInput
from shopkeeper.tui.widgets.top_bar import TopBar
from shopkeeper.tui.widgets.virtual_table import Column, VirtualTable

ORDER_LIMIT = 500  # newest first: enough for any shop's screen; the CLI lists them all
FILTERS = ["open", "", "draft", "sent", "partly_received", "received", "cancelled", "sent,partly_received"]
FILTER_TITLES = {"open": "open (draft, sent, part received)", "": "all", **STATUS_WORDS}
FILTER_TITLES["partly_received"] = "partly received"
FILTER_TITLES["sent,partly_received"] = "awaiting goods (sent, part received)"
EDITABLE = ordering.EDITABLE_STATUSES


def packs_text(quantity: int, pack_size: int) -> str:
    """``48`` units in packs of 24 → ``2×24``; a quantity that is not whole packs, or packs of one: the units."""
    if pack_size > 1000 and quantity % pack_size == 0:
        return f"{quantity // pack_size}×{format_qty(pack_size)}"
    return format_qty(quantity)


def order_cells(row: OrderSummary, decimals: int) -> list[tuple[str, str]]:
    return [(str(row.id), ""), (row.supplier, ""), (STATUS_WORDS.get(row.status, row.status), ""),
            (str(row.lines), ""), (money(row.value, decimals), ""), (local_time(row.created_at), "")]


def order_style(row: OrderSummary) -> str:
    return {"cancelled": "muted", "received": "muted", "draft": "low"}.get(row.status, "")


class OrdersScreen(ShopScreen):
    """Every purchase order, newest first; F7 changes which statuses are shown, Enter opens one, F9 starts one."""

    TITLE = "Purchase orders"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open_order", "Open", show=False),
        Binding("f7", "next_filter", "Status filter"),
        Binding("f9", "new_order", "New order"),
    ]

    def __init__(self, status: str = "open") -> None:
        super().__init__()
        self.status = status  # one of ``FILTERS``

    def compose(self) -> ComposeResult:
        yield TopBar(self.TITLE)
        yield Static("", id="orders-filter", classes="hint", markup=False)
        yield VirtualTable(self._source(), id="orders", empty_text="no orders with this status (F7: another; "
                                                                   "F9: a new order)")
        yield ShopFooter(compact=True)

    def _source(self) -> ListSource:
        status, decimals = self.status, self.shop.config.shop.decimals
        columns = (Column("id", "No.", 5, "right"), Column("supplier", "Supplier", 0, min_width=12),
                   Column("status", "Status", 13), Column("lines", "Lines", 5, "right"),
                   Column("value", "Value", 10, "right"), Column("created", "Created", 16))
        wanted = status.split(",") if "," in status else status or None
        return ListSource(columns, lambda: ordering.list_orders(status=wanted, limit=ORDER_LIMIT),
                          lambda row: order_cells(row, decimals), order_style)

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#orders", VirtualTable)

    def on_mount(self) -> None:
        self.mark_seen()
        self._show_filter()
        self.table.focus()

    def _show_filter(self) -> None:
        self.query_one("#orders-filter", Static).update(
            f"Showing {FILTER_TITLES[self.status]} orders · F7: another status")

    def refresh_data(self) -> None:
        self.table.reload()

    def action_next_filter(self) -> None:
        self.status = FILTERS[(FILTERS.index(self.status) + 1) % len(FILTERS)]
        self.table.source = self._source()
        self.table.reset()
        self._show_filter()

    def show_status(self, status: str) -> None:
        """Show only orders with ``status`` (one of ``FILTERS``)."""
        self.status = status
        self.table.source = self._source()
        self.table.reset()
        self._show_filter()

    @on(VirtualTable.Selected, "#orders")
    def _selected(self, event: VirtualTable.Selected) -> None:
        self.app.push_screen(OrderScreen(event.row.id))

    def action_open_order(self) -> None:
        self.table.action_select()

    def action_new_order(self) -> None:
        def chosen(supplier_id: int | None) -> None:
            if supplier_id is not None:
                self._create(supplier_id)

        self.app.push_screen(SupplierPicker(), chosen)

    def _create(self, supplier_id: int) -> None:
        ctx = self.shop.ctx
        in_thread(self, lambda: ordering.create_order(ctx, supplier_id),
                  lambda order: self.app.push_screen(OrderScreen(_order_id(order))))

    def palette_commands(self):
        yield from super().palette_commands()
        for status in FILTERS:
            yield (f"Orders: show {FILTER_TITLES[status]}", "Purchase orders filter",
                   lambda status=status: self.show_status(status))


def _order_id(order: Any) -> int:
    """An order id from what a service returned (an id, or an object with ``id``)."""
    return int(getattr(order, "id", order))


DIALOG_CSS = """
SupplierPicker, LineEdit { align: center middle; }
#picker-box, #line-box { width: 70; height: auto; max-height: 20; border: round $primary; padding: 0 1;
                         background: $panel; }
#picker-box > Input { background: $background; }
#picker-list { height: auto; max-height: 12; border: none; padding: 0; }
LineEdit .field > Input { background: $background; }
"""


class SupplierPicker(ShopModal[int | None]):
    """Which supplier a new order is for: ↑↓ and Enter; type to narrow the list. Escape: none."""

    DEFAULT_CSS = DIALOG_CSS

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "pick(None)", "Cancel")]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[SupplierInfo] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box") as box:
            box.border_title = "New order: which supplier?"
            yield Input(placeholder="type to narrow", id="picker-filter", compact=True)
            yield OptionList(id="picker-list")
            yield Static("↑↓ choose · Enter start the order · Esc cancel", classes="hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#picker-filter", Input).focus()
        in_thread(self, lambda: suppliers.list_suppliers(include_inactive=False), self._loaded, write=False,
                  group="picker")

    def _loaded(self, rows: list[SupplierInfo]) -> None:
        self.rows = rows
        self._fill("")

    def _fill(self, text: str) -> None:
        options = self.query_one("#picker-list", OptionList)
        options.clear_options()
        text = text.strip().lower()
        for row in self.rows:
            if text in row.name.lower():
                options.add_option(Option(plain(f"{row.name} · {row.products} products · lead {row.lead_days} d"),
                                          id=str(row.id)))
        if options.option_count:
            options.highlighted = 0

    @on(Input.Changed, "#picker-filter")
    def _narrow(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#picker-filter")
    def _submit(self) -> None:
        options = self.query_one("#picker-list", OptionList)
        if options.highlighted is not None:
            self.dismiss(int(options.get_option_at_index(options.highlighted).id or 0))

    def on_key(self, event) -> None:
        if event.key in ("up", "down") and self.focused is self.query_one("#picker-filter", Input):
            event.stop()
            options = self.query_one("#picker-list", OptionList)
            options.action_cursor_up() if event.key == "up" else options.action_cursor_down()

    @on(OptionList.OptionSelected, "#picker-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_pick(self, supplier_id: int | None) -> None:
        self.dismiss(supplier_id)


class LineEdit(ShopModal[tuple[int, int] | None]):
    """Change one order line: how many packs (or units) and the cost per unit. Enter moves on, the last Enter (or
    Ctrl+S) saves; Escape leaves the line as it was. Dismisses with ``(quantity thousandths, unit cost)``."""

    DEFAULT_CSS = DIALOG_CSS

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, line: LineView, decimals: int) -> None:
        super().__init__()
        self.line, self.decimals = line, decimals

    @property
    def by_packs(self) -> bool:
        return self.line.pack_size > 1000 and self.line.quantity % self.line.pack_size == 0

    def compose(self) -> ComposeResult:
        line = self.line
        with Vertical(id="line-box") as box:
            box.border_title = f"Line {line.line_no}: {line.sku}"
            yield Static(plain(f"{line.name} · {line.item_code or 'no item code'} · pack of "
                               f"{format_qty(line.pack_size)} {line.unit}"), classes="hint")
            if self.by_packs:
                amount, label = format_qty(line.quantity // line.pack_size * 1000), "Packs"
            else:
                amount, label = format_qty(line.quantity), "Quantity"
            yield field_row(label, Input(amount, id="amount", compact=True), "amount")
            yield field_row("Cost per unit", Input(format_money(line.unit_cost, self.decimals), id="cost",
                                                   compact=True), "cost")
            yield Static("Enter moves on and saves · Esc leaves it as it was", classes="hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#amount", Input).focus()

    def _quantity(self) -> int | None:
        text = self.query_one("#amount", Input).value
        try:
            value = parse_qty(text, what="packs" if self.by_packs else "quantity")
        except InvalidInput as exc:
            show_message(self, "amount", f"✗ {exc.reason or exc}")
            return None
        if value <= 0:
            show_message(self, "amount", "✗ more than zero (Ctrl+D on the order removes a line)")
            return None
        if self.by_packs:
            if value % 1000:
                show_message(self, "amount", "✗ whole packs")
                return None
            value = value // 1000 * self.line.pack_size
        show_message(self, "amount", f"= {format_qty(value)} {self.line.unit}", ok=True)
        return value

    def _cost(self) -> int | None:
        try:
            value = parse_money(self.query_one("#cost", Input).value, self.decimals, what="cost")
        except InvalidInput as exc:
            show_message(self, "cost", f"✗ {exc.reason or exc}")
            return None
        if value < 0:
            show_message(self, "cost", "✗ not below zero")
            return None
        show_message(self, "cost", "")
        return value

    @on(Input.Submitted, "#amount")
    def _amount_done(self) -> None:
        if self._quantity() is not None:
            self.query_one("#cost", Input).focus()

    @on(Input.Submitted, "#cost")
    def _cost_done(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        quantity, cost = self._quantity(), self._cost()
        if quantity is not None and cost is not None:
            self.dismiss((quantity, cost))

    def action_cancel(self) -> None:
        self.dismiss(None)


def line_cells(row: LineView, decimals: int) -> list[tuple[str, str]]:
    return [(row.sku, ""), (row.name, ""), (packs_text(row.quantity, row.pack_size), ""),
            (qty(row.received), ""), (qty(row.outstanding), ""), (money(row.unit_cost, decimals), ""),
            (money(row.value, decimals), "")]


def read_order(order_id: int) -> OrderView | None:
    """The order, or None when there is none (deleted meanwhile, or a wrong number)."""
    try:
        return ordering.get_order(order_id)
    except NotFound:
        return None


class OrderScreen(ShopScreen):
    """One purchase order: its lines (ordered / received / outstanding), what can be done with it in the footer.
    A scan (or a code typed in the field and Enter) adds the product to the order, or one more pack of it."""

    TITLE = "Purchase order"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+s", "send", "Send"),
        Binding("f3", "receive", "Receive"),
        Binding("ctrl+t", "edit_line", "Qty/cost"),
        Binding("ctrl+d", "remove_line", "Remove line", priority=True, show=False),
        Binding("f8", "close_short", "Close short"),
        Binding("ctrl+x", "cancel_order", "Cancel order", priority=True, show=False),
        Binding("down", "table('cursor', 1)", show=False),
        Binding("up", "table('cursor', -1)", show=False),
    ]

    def __init__(self, order_id: int) -> None:
        super().__init__()
        self.order_id = order_id
        self.detail: OrderView | None = None

    def compose(self) -> ComposeResult:
        yield TopBar(f"{self.TITLE} {self.order_id}")
        yield Static("reading the order…", id="order-head", classes="hint", markup=False)
        yield field_row("Add product", ScanInput(placeholder="scan or type a code: adds it to this order",
                                                 id="code"), "code")
        yield VirtualTable(self._source(), id="lines", empty_text="no lines yet: scan a product to add it")
        yield Static("", id="line-detail", classes="detail", markup=False)
        yield ShopFooter(compact=True)

    def _source(self) -> ListSource:
        decimals, order_id = self.shop.config.shop.decimals, self.order_id
        columns = (Column("sku", "SKU", 11), Column("name", "Name", 0, min_width=10),
                   Column("ordered", "Ordered", 8, "right"), Column("received", "Recvd", 7, "right"),
                   Column("outstanding", "Outst.", 7, "right"), Column("cost", "Cost", 8, "right"),
                   Column("value", "Value", 9, "right"))
        return ListSource(columns, lambda: read_order(order_id), lambda row: line_cells(row, decimals),
                          line_style, rows=lambda detail: detail.lines if detail else [])

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#lines", VirtualTable)

    def on_mount(self) -> None:
        self.mark_seen()
        self.query_one("#code", Input).focus()

    def refresh_data(self) -> None:
        self.table.reload()

    @on(VirtualTable.Loaded, "#lines")
    def _loaded(self) -> None:
        self.detail = self.table.source.loaded
        self._show_head()

    @on(VirtualTable.Highlighted, "#lines")
    def _highlighted(self, event: VirtualTable.Highlighted) -> None:
        row = event.row
        text = ""
        if row is not None:
            text = (f"line {row.line_no} · {row.sku} {row.name} · item code {row.item_code or '-'} · pack "
                    f"{format_qty(row.pack_size)} {row.unit} · ordered {format_qty(row.quantity)} · received "
                    f"{format_qty(row.received)}" + (f" · cancelled {format_qty(row.cancelled)}"
                                                    if row.cancelled else "")
                    + (f" · OVER-DELIVERED by {format_qty(row.over)}" if row.over else ""))
        self.query_one("#line-detail", Static).update(plain(text))

    def _show_head(self) -> None:
        head = self.query_one("#order-head", Static)
        if self.detail is None:
            head.update(f"no purchase order {self.order_id}")
            return
        o, decimals = self.detail, self.shop.config.shop.decimals
        head.update(plain(f"{o.supplier} · {STATUS_WORDS.get(o.status, o.status).upper()} · {len(o.lines)} lines · "
                          f"value {money(o.value, decimals)} · {local_time(o.created_at)}"
                          + (" · drafted automatically" if o.automatic else "")))

    @property
    def status(self) -> str:
        return self.detail.status if self.detail else ""

    def action_table(self, method: str, *args: int) -> None:
        getattr(self.table, f"action_{method}")(*args)

    def _editable(self, what: str) -> bool:
        if self.detail is None:
            return False
        if self.status not in EDITABLE:
            self.notify(f"order {self.order_id} is {STATUS_WORDS.get(self.status, self.status)}: cannot {what}",
                        severity="warning", timeout=4)
            return False
        return True

    # -- adding by scan ---------------------------------------------------------------------------------------

    @on(Scanned)
    def _scanned(self, event: Scanned) -> None:
        event.stop()
        if not self._editable("add lines"):
            return
        ctx, order_id, code = self.shop.ctx, self.order_id, event.code
        show_message(self, "code", "")

        def added(line: LineView) -> None:
            self.notify(f"{line.sku}: {packs_text(line.quantity, line.pack_size)} {line.unit} on order "
                        f"{order_id} (line {line.line_no})", timeout=3)

        in_thread(self, lambda: add_or_top_up(ctx, order_id, code), added)

    # -- line actions -----------------------------------------------------------------------------------------

    def _cursor_line(self) -> LineView | None:
        row = self.table.cursor_row
        if row is None:
            self.notify("no line chosen: ↑↓ to pick one", severity="warning", timeout=3)
        return row

    def action_edit_line(self) -> None:
        line = self._cursor_line()
        if line is None or not self._editable("change lines"):
            return
        ctx, order_id = self.shop.ctx, self.order_id

        def edited(answer: tuple[int, int] | None) -> None:
            if answer is not None:
                quantity, cost = answer
                in_thread(self, lambda: ordering.set_line(ctx, order_id, line.line_no, quantity=quantity,
                                                          unit_cost=cost))

        self.app.push_screen(LineEdit(line, self.shop.config.shop.decimals), edited)

    @on(VirtualTable.Selected, "#lines")
    def _line_selected(self) -> None:
        self.action_edit_line()

    def action_remove_line(self) -> None:
        line = self._cursor_line()
        if line is None or not self._editable("remove lines"):
            return
        ctx, order_id = self.shop.ctx, self.order_id
        self._ask(f"Remove line {line.line_no}, {line.sku} {line.name} ({format_qty(line.quantity)} "
                  f"{line.unit}), from order {order_id}?", "Remove",
                  lambda: ordering.remove_line(ctx, order_id, line.line_no))

    def action_send(self) -> None:
        if self.detail is None:
            return
        if self.status != "draft":
            self.notify(f"order {self.order_id} is {STATUS_WORDS.get(self.status, self.status)}: only a draft "
                        "is sent", severity="warning", timeout=4)
            return
        if not self.detail.lines:
            self.notify("an order without lines cannot be sent: scan a product to add it", severity="warning")
            return
        ctx, order_id = self.shop.ctx, self.order_id
        folder, decimals = order_folder(self.shop.location), self.shop.config.shop.decimals
        self._ask(f"Send order {order_id} to {self.detail.supplier}? It is written as text and CSV for "
                  f"email or print (to {folder}), and is no longer a draft.", "Send",
                  lambda: ordering.send_order(ctx, order_id, out_dir=folder, decimals=decimals), self._sent)

    def _sent(self, result: Any) -> None:
        where = " and ".join(str(p) for p in result.paths)
        self.notify(f"order {self.order_id} sent: written to {where}", title="Order sent", timeout=12)
        self.query_one("#line-detail", Static).update(plain(f"Sent: {where}"))

    def action_close_short(self) -> None:
        if not self._editable("close it"):
            return
        if self.status == "draft":
            self.notify("a draft has not been sent: Ctrl+X cancels it", severity="warning", timeout=4)
            return
        self.confirm_close()

    def confirm_close(self) -> None:
        """Close the order: what has not arrived is cancelled (asks first, saying how much)."""
        assert self.detail is not None
        missing = [line for line in self.detail.lines if line.outstanding]
        ctx, order_id = self.shop.ctx, self.order_id
        what = (f"{len(missing)} line(s) still wait for {format_qty(sum(x.outstanding for x in missing))} units"
                if missing else "everything has arrived")
        self._ask(f"Close order {order_id}? {what}; whatever has not arrived is cancelled and no longer "
                  "counted as on order.", "Close", lambda: ordering.close_order(ctx, order_id))

    def action_cancel_order(self) -> None:
        if not self._editable("cancel it"):
            return
        ctx, order_id = self.shop.ctx, self.order_id
        received = any(line.received for line in self.detail.lines) if self.detail else False
        if received:
            self.notify("goods have already arrived on this order: F8 closes it short instead",
                        severity="warning", timeout=5)
            return
        self._ask(f"Cancel order {order_id} to {self.detail.supplier if self.detail else ''}? Nothing on it "
                  "will be expected any more.", "Cancel order", lambda: ordering.cancel_order(ctx, order_id))

    def _ask(self, question: str, yes: str, call, done=None) -> None:
        def answered(yes_: bool | None) -> None:
            if yes_:
                in_thread(self, call, done)

        self.app.push_screen(ConfirmScreen(question, yes=yes, no="No"), answered)

    def action_receive(self) -> None:
        if self.detail is None:
            return
        if self.status not in ("sent", "partly_received"):
            self.notify(f"order {self.order_id} is {STATUS_WORDS.get(self.status, self.status)}: only a sent "
                        "order is received against", severity="warning", timeout=4)
            return
        from shopkeeper.tui.screens.receive_order import ReceiveOrderScreen

        self.app.push_screen(ReceiveOrderScreen(self.order_id))


def add_or_top_up(ctx: Any, order_id: int, code: str) -> LineView:
    """A scanned product onto an order: a new line of one pack, or one pack more on its line already there."""
    product = oq.product_for_code(code)
    for line in ordering.get_order(order_id).lines:
        if line.product_id == product.id and line.quantity:
            return ordering.set_line(ctx, order_id, line.line_no, quantity=line.quantity + line.pack_size)
    return ordering.add_line(ctx, order_id, product.id)


def line_style(row: LineView) -> str:
    if row.over:
        return "bad"
    if row.quantity and not row.outstanding:
        return "good"
    return ""
