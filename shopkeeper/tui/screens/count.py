"""Stock count: walk the shelves, scan or type each item and how many are there, see expected against counted,
then post every variance together. The session is saved line by line, so leaving (or a dropped SSH session)
loses nothing: opening Count again at this till resumes it."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Static

from shopkeeper.errors import InvalidInput
from shopkeeper.money import format_qty, parse_qty
from shopkeeper.services import queries
from shopkeeper.services.queries import CountRow
from shopkeeper.tui.format import qty, signed_qty
from shopkeeper.tui.screens.confirm import ConfirmScreen
from shopkeeper.tui.screens.picking import PickingScreen
from shopkeeper.tui.widgets.footer import ShopFooter
from shopkeeper.tui.widgets.form import field_row, show_message
from shopkeeper.tui.widgets.scan_input import ScanAwareInput, ScanInput, Scanned
from shopkeeper.tui.widgets.top_bar import TopBar
from shopkeeper.tui.widgets.virtual_table import Column, CountIndex, VirtualTable


class CountSource(CountIndex):
    columns = (
        Column("sku", "SKU", 12),
        Column("name", "Name", 0, min_width=10),
        Column("unit", "Unit", 4),
        Column("expected", "Expected", 9, "right"),
        Column("counted", "Counted", 9, "right"),
        Column("variance", "Variance", 9, "right"),
    )

    def __init__(self) -> None:
        self.session_id: int | None = None

    def load_index(self) -> int:
        return len(queries.count_lines(self.session_id)) if self.session_id else 0

    def window(self, index: Any, offset: int, limit: int) -> list[CountRow]:
        if not self.session_id:
            return []
        return queries.count_lines(self.session_id)[offset: offset + limit]

    def cells(self, row: CountRow) -> list[tuple[str, str]]:
        v = row.variance
        return [(row.sku, ""), (row.name, ""), (row.unit, ""), (qty(row.expected), ""), (qty(row.counted), ""),
                (signed_qty(v) if v else "=", "good" if v > 0 else "bad" if v < 0 else "muted")]


class CountScreen(PickingScreen):
    TITLE = "Count"
    NEXT_FIELD = "#qty"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Leave"),
        Binding("f9", "post", "Post variances"),
        # Priority: the code and quantity fields keep the focus, and an Input takes Ctrl+D (delete) and Ctrl+X (cut)
        # for itself before a screen binding is looked at.
        Binding("ctrl+d", "remove_line", "Remove line", priority=True),
        Binding("ctrl+x", "cancel_count", "Cancel count", priority=True),
    ]

    def __init__(self, product_id: int | None = None) -> None:
        super().__init__(product_id)
        self.session_id: int | None = None
        self.source = CountSource()

    def compose(self) -> ComposeResult:
        yield TopBar(self.TITLE)
        yield Static("", id="count-title", classes="title", markup=False)
        yield field_row("Product", ScanInput(id="code"), "code")
        yield Static("no product chosen", id="product-info", classes="product-info", markup=False)
        yield field_row("Counted", ScanAwareInput(placeholder="on the shelf; +N adds", id="qty", compact=True),
                        "qty")
        yield VirtualTable(self.source, id="count-lines", empty_text="nothing counted yet: scan the first item")
        yield ShopFooter(compact=True)

    def on_mount(self) -> None:
        session = queries.open_count_session(self.shop.ctx.terminal)
        if session is not None:
            self.session_id = self.source.session_id = session
            self.notify(f"resumed count session {session}", timeout=3)
        self._title()
        super().on_mount()

    def _title(self) -> None:
        table = self.query_one("#count-lines", VirtualTable)
        n = table.row_count if self.session_id else 0
        state = f"session {self.session_id} · {n} counted" if self.session_id else "no session yet"
        self.query_one("#count-title", Static).update(f"Stock count · {state} · Enter records · F9 posts variances")

    @on(VirtualTable.Loaded, "#count-lines")
    def _loaded(self) -> None:
        self._title()

    def refresh_data(self) -> None:
        super().refresh_data()
        self.query_one("#count-lines", VirtualTable).reload()

    def on_picked_again(self, event: Scanned) -> None:
        if self.product is None or not self.session_id:
            return
        for row in queries.count_lines(self.session_id):
            if row.product_id == self.product.id:
                show_message(self, "qty", f"already counted {format_qty(row.counted)}: a number replaces it, "
                                          f"+N adds", ok=True)
                return
        show_message(self, "qty", "")

    @on(Input.Submitted, "#qty")
    def _record(self) -> None:
        from shopkeeper.services.stock import record_count, start_count

        product = self.require_product()
        text = self.query_one("#qty", Input).value.strip()
        add = text.startswith("+")
        try:
            counted = parse_qty(text.lstrip("+") if add else text, what="count")
        except InvalidInput as exc:
            show_message(self, "qty", f"✗ {exc.reason}" if text else "✗ how many are there?")
            return
        if counted < 0:
            show_message(self, "qty", "✗ a count cannot be negative")
            return
        if product is None:
            return
        ctx = self.shop.ctx
        if self.session_id is None:
            session = self.service(lambda: start_count(ctx), changed=False)
            if session is None:
                return
            self.session_id = self.source.session_id = session.id
        line = self.service(lambda: record_count(ctx, self.session_id, product.sku, counted, add=add),
                            changed=False)
        if line is None:
            return
        self.notify(f"{product.sku}: counted {format_qty(line.counted)}, expected {format_qty(line.expected)}",
                    timeout=2)
        self.query_one("#qty", Input).value = ""
        show_message(self, "qty", "")
        self.product = None
        self._show_product()
        table = self.query_one("#count-lines", VirtualTable)
        table.reset()
        self.query_one("#code", Input).focus()

    def action_remove_line(self) -> None:
        from shopkeeper.services.stock import remove_count

        row = self.query_one("#count-lines", VirtualTable).cursor_row
        if row is None or self.session_id is None:
            self.notify("no line to remove", severity="warning")
            return
        if self.service(lambda: remove_count(self.session_id, row.sku) or True, changed=False):
            self.query_one("#count-lines", VirtualTable).reset()

    @work
    async def action_post(self) -> None:
        from shopkeeper.services.stock import count_variances

        if self.session_id is None:
            self.notify("nothing counted yet", severity="warning")
            return
        variances = count_variances(self.session_id)
        changed = [v for v in variances if v.variance]
        net = sum(v.variance for v in changed)
        question = (f"Post count session {self.session_id}: {len(variances)} item(s) counted, "
                    f"{len(changed)} with a variance (net {signed_qty(net) if net else '0'})?")
        if not await self.app.push_screen_wait(ConfirmScreen(question, yes="Post", no="Not yet")):
            return
        self._post(len(changed), net)

    def _post(self, changed: int, net: int) -> None:
        from shopkeeper.services.stock import post_count

        result = self.service(lambda: post_count(self.shop.ctx, self.session_id),
                              retry=lambda: self._post(changed, net))  # after a supervisor's approval
        if result is None:
            return
        self.notify(f"count posted: {changed} variance(s), net {signed_qty(net) if net else '0'}", timeout=4)
        self.session_id = self.source.session_id = None
        self.query_one("#count-lines", VirtualTable).reset()
        self._title()

    @work
    async def action_cancel_count(self) -> None:
        from shopkeeper.services.stock import cancel_count

        if self.session_id is None:
            self.dismiss()
            return
        if not await self.app.push_screen_wait(ConfirmScreen(
                f"Cancel count session {self.session_id}? Nothing is posted; the counted lines are dropped.",
                yes="Cancel the count", no="Keep counting")):
            return
        if self.service(lambda: cancel_count(self.session_id, self.shop.ctx) or True, changed=False):
            self.notify(f"count session {self.session_id} cancelled", timeout=3)
            self.session_id = self.source.session_id = None
            self.query_one("#count-lines", VirtualTable).reset()
            self._title()

    def action_back(self) -> None:
        if self.session_id is not None:
            self.notify(f"count session {self.session_id} stays open: F5 resumes it", timeout=4)
        self.dismiss()
