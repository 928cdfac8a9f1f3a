"""The ordering screens by keyboard: suppliers and their products, a purchase order drafted, edited and sent, a
delivery received against it in two halves, an order closed short; every new dialog refuses a scanner's burst;
an unknown code at the receiving screen says so."""

from __future__ import annotations

import pytest

from shopkeeper.models import Product, ProductSupplier, PurchaseOrder, PurchaseOrderLine, Supplier
from shopkeeper.services import ordering, suppliers
from shopkeeper.tui.screens.confirm import ConfirmScreen
from shopkeeper.tui.screens.orders import LineEdit, OrderScreen, OrdersScreen, SupplierPicker
from shopkeeper.tui.screens.receive_order import ReceiveOrderScreen
from shopkeeper.tui.screens.suppliers import LinkForm, SupplierForm, SuppliersScreen
from tests.tui.conftest import press_alone, scan_burst, screen_lines, settle

SIZE = (80, 24)
BUTTER = "5000112548167"  # BUTTER-250's barcode in the test shop
UNKNOWN = "5012345678900"  # a well-formed EAN-13 no product has
BURST = "toy-5449y"  # a code holding a "y", the key that answers yes


@pytest.fixture
def out_dir(tmp_path, monkeypatch):
    """Sent orders are written here (not beside a PostgreSQL shop's nowhere, nor the user's data folder)."""
    folder = tmp_path / "orders-out"
    monkeypatch.setattr("shopkeeper.tui.screens.orders.order_folder", lambda location: folder)
    return folder


def butter_from_the_dairy(ctx) -> None:
    suppliers.link_product(ctx, "BUTTER-250", "Hill Farm Dairy", item_code="HF-B250", pack_size=12_000,
                           pack_cost=1_800)


def sent_order(ctx, tmp_path, quantity: int = 24_000, *, also: str = "") -> int:
    butter_from_the_dairy(ctx)
    order = ordering.create_order(ctx, "Hill Farm Dairy")
    ordering.add_line(ctx, order.id, "BUTTER-250", quantity=quantity)
    if also:
        ordering.add_line(ctx, order.id, also, quantity=6_000)
    ordering.send_order(ctx, order.id, out_dir=tmp_path / "sent")
    return order.id


def line(order_id: int, sku: str = "BUTTER-250") -> PurchaseOrderLine:
    return PurchaseOrderLine.get((PurchaseOrderLine.order == order_id)
                                 & (PurchaseOrderLine.product == product(sku).id))


def status(order_id: int) -> str:
    return PurchaseOrder.get_by_id(order_id).status


def product(sku: str) -> Product:
    return Product.get(Product.sku == sku)


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


def refusals(app) -> list[str]:
    return [m for m in messages(app) if "finish this dialog first" in m]


def table_text(app) -> str:
    return "\n".join(screen_lines(app))


async def open_order(app, pilot, order_id: int) -> OrderScreen:
    """The Orders screen (from the command palette), then Enter on the order (the newest open one is first)."""
    await settle(app, pilot)
    app.action_open("orders")
    await settle(app, pilot)
    assert isinstance(app.screen, OrdersScreen)
    assert app.screen.table.cursor_row.id == order_id
    await pilot.press("enter")
    await settle(app, pilot)
    assert isinstance(app.screen, OrderScreen) and app.screen.order_id == order_id
    return app.screen


# -- purchase orders ------------------------------------------------------------------------------------------------

async def test_draft_open_edit_and_send_by_keyboard(shop, make_app, till_ctx, out_dir):
    butter_from_the_dairy(till_ctx)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_open("orders")
        await settle(app, pilot)
        await pilot.press("f9")
        await settle(app, pilot)
        picker = app.screen
        assert isinstance(picker, SupplierPicker)
        picker.query_one("#picker-filter").value = "hill"
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, OrderScreen)
        order_id = screen.order_id
        assert PurchaseOrder.get_by_id(order_id).supplier.name == "Hill Farm Dairy" and status(order_id) == "draft"

        app.deliver_scan(BUTTER)  # one pack of 12 at the supplier's pack cost
        await settle(app, pilot)
        app.deliver_scan(BUTTER)  # the same product again: one pack more on its line, not a second line
        await settle(app, pilot)
        await pilot.press(*"MILK-1L", "enter")  # typed (or a wedge burst) into the code field
        await settle(app, pilot)
        lines = list(PurchaseOrderLine.select().where(PurchaseOrderLine.order == order_id)
                     .order_by(PurchaseOrderLine.line_no))
        assert [(x.product.sku, x.quantity, x.item_code) for x in lines] == [
            ("BUTTER-250", 24_000, "HF-B250"), ("MILK-1L", 1_000, "")]
        assert lines[0].unit_cost == 150 and product("BUTTER-250").on_order == 24_000
        assert "2×12" in table_text(app)

        await pilot.press("down", "ctrl+t")  # the milk line: quantity and cost
        await settle(app, pilot)
        edit = app.screen
        assert isinstance(edit, LineEdit)
        edit.query_one("#amount").value = "6"
        await pilot.press("enter")
        edit.query_one("#cost").value = "0.80"
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen
        milk = PurchaseOrderLine.get_by_id(lines[1].id)
        assert (milk.quantity, milk.unit_cost) == (6_000, 80)

        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")  # the focus starts on No: Enter alone sends nothing
        await settle(app, pilot)
        assert status(order_id) == "draft"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await press_alone(app, pilot, "y")
        await settle(app, pilot)
        assert status(order_id) == "sent"
        assert (out_dir / f"po-{order_id}.txt").exists() and (out_dir / f"po-{order_id}.csv").exists()
        assert any(str(out_dir / f"po-{order_id}.csv") in m for m in messages(app)), messages(app)
        assert "HF-B250" in (out_dir / f"po-{order_id}.txt").read_text()


async def test_remove_line_asks_first_and_cancel_order(shop, make_app, till_ctx, out_dir):
    butter_from_the_dairy(till_ctx)
    order = ordering.create_order(till_ctx, "Hill Farm Dairy")
    ordering.add_line(till_ctx, order.id, "BUTTER-250")
    ordering.add_line(till_ctx, order.id, "EGGS-6")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_order(app, pilot, order.id)
        await pilot.press("ctrl+d")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await press_alone(app, pilot, "y")
        await settle(app, pilot)
        assert [x.product.sku for x in PurchaseOrderLine.select().where(PurchaseOrderLine.order == order.id)] == [
            "EGGS-6"]
        await pilot.press("ctrl+x")
        await settle(app, pilot)
        await press_alone(app, pilot, "n")
        await settle(app, pilot)
        assert status(order.id) == "draft"
        await pilot.press("ctrl+x")
        await settle(app, pilot)
        await press_alone(app, pilot, "y")
        await settle(app, pilot)
        assert status(order.id) == "cancelled" and product("EGGS-6").on_order == 0
        app.deliver_scan(BUTTER)  # a cancelled order takes nothing more
        await settle(app, pilot)
        assert PurchaseOrderLine.select().where(PurchaseOrderLine.order == order.id).count() == 1


async def test_orders_list_filters_by_status(shop, make_app, till_ctx, tmp_path):
    sent = sent_order(till_ctx, tmp_path)
    draft = ordering.create_order(till_ctx, "Deli Imports").id
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_open("orders")
        await settle(app, pilot)
        screen = app.screen
        assert screen.status == "open" and screen.table.row_count == 2
        statuses = []
        for _ in range(3):  # open → all → draft → sent
            await pilot.press("f7")
            await settle(app, pilot)
            statuses.append((screen.status, [screen.table._row_at(i).id for i in range(screen.table.row_count)]))
        assert statuses == [("", [draft, sent]), ("draft", [draft]), ("sent", [sent])]


# -- receiving against an order ---------------------------------------------------------------------------------

async def receive(app, pilot, code: str, quantity: str | None = None, cost: str | None = None) -> None:
    """Scan ``code``; keep the quantity and cost offered unless given; Enter, Enter posts."""
    app.deliver_scan(code)
    await settle(app, pilot)
    screen = app.screen
    if quantity is not None:
        screen.query_one("#qty").value = quantity
    await pilot.press("enter")
    if cost is not None:
        screen.query_one("#cost").value = cost
    await pilot.press("enter")
    await settle(app, pilot)


async def test_receive_half_then_the_rest(shop, make_app, till_ctx, tmp_path):
    order_id = sent_order(till_ctx, tmp_path)
    before = product("BUTTER-250").on_hand
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_order(app, pilot, order_id)
        await pilot.press("f3")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReceiveOrderScreen)

        app.deliver_scan(BUTTER)
        await settle(app, pilot)
        assert screen.query_one("#qty").value == "24"  # what the order still expects
        assert screen.query_one("#cost").value == "1.50"  # the order line's cost
        screen.query_one("#qty").value = "12"
        await pilot.press("enter", "enter")
        await settle(app, pilot)
        assert (line(order_id).received, status(order_id)) == (12_000, "partly_received")
        assert product("BUTTER-250").on_hand == before + 12_000 and product("BUTTER-250").on_order == 12_000
        assert "SHORT 12" in table_text(app) and "PART RECEIVED" in table_text(app)

        await receive(app, pilot, BUTTER)  # the rest: the quantity offered is the 12 still missing
        assert (line(order_id).received, status(order_id)) == (24_000, "received")
        assert product("BUTTER-250").on_hand == before + 24_000 and product("BUTTER-250").on_order == 0
        assert "complete" in table_text(app)


async def test_receiving_flags_over_delivery_and_items_not_on_the_order(shop, make_app, till_ctx, tmp_path):
    order_id = sent_order(till_ctx, tmp_path, quantity=12_000, also="EGGS-6")  # the eggs keep it open
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_order(app, pilot, order_id)
        await pilot.press("f3")
        await settle(app, pilot)
        await receive(app, pilot, BUTTER, quantity="14")
        assert "OVER +2" in table_text(app)
        assert any("OVER-DELIVERY" in m for m in messages(app))
        app.deliver_scan("CANDLE")
        await settle(app, pilot)
        assert "NOT ON THIS ORDER" in table_text(app)
        await receive(app, pilot, "CANDLE", quantity="3", cost="2.75")
        assert "NOT ON ORDER" in table_text(app)
        candle = line(order_id, "CANDLE")
        assert (candle.quantity, candle.received, candle.unit_cost) == (0, 3_000, 275)


async def test_closing_with_items_missing_asks_then_cancels_the_rest(shop, make_app, till_ctx, tmp_path):
    order_id = sent_order(till_ctx, tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_order(app, pilot, order_id)
        await pilot.press("f3")
        await settle(app, pilot)
        await receive(app, pilot, BUTTER, quantity="12")
        await pilot.press("f9")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "12 BUTTER-250" in table_text(app)
        await pilot.press("escape")  # no: the rest stays on order
        await settle(app, pilot)
        assert status(order_id) == "partly_received" and product("BUTTER-250").on_order == 12_000
        await pilot.press("f9")
        await settle(app, pilot)
        await press_alone(app, pilot, "y")
        await settle(app, pilot)
        assert status(order_id) == "received" and line(order_id).cancelled == 12_000
        assert product("BUTTER-250").on_order == 0


async def test_unknown_barcode_while_receiving_says_so(shop, make_app, till_ctx, tmp_path):
    order_id = sent_order(till_ctx, tmp_path)
    app = make_app()
    bells: list[int] = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=SIZE) as pilot:
        await open_order(app, pilot, order_id)
        await pilot.press("f3")
        await settle(app, pilot)
        app.deliver_scan(UNKNOWN)
        await settle(app, pilot)
        said = f"unknown code {UNKNOWN}: no product has this SKU or barcode — nothing received"
        assert said in messages(app) and bells
        assert "unknown code" in table_text(app)  # next to the code field as well
        assert app.screen.product is None and line(order_id).received == 0


# -- suppliers ------------------------------------------------------------------------------------------------------

async def test_add_a_supplier_and_link_a_product_by_scan(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_open("suppliers")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, SuppliersScreen)
        await pilot.press("f9")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, SupplierForm)
        for name, value in (("name", "Mill Lane Flour"), ("contact", "Jo"), ("email", "jo@mill.example"),
                            ("phone", "01234 5678"), ("lead_days", "3"), ("review_days", "14"),
                            ("order_days", "mon,thu"), ("min_order", "150.00"), ("notes", "back door")):
            form.query_one(f"#{name}").value = value
        form.query_one("#lead_days").value = "three"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is form and "whole number" in table_text(app)  # refused next to its field
        form.query_one("#lead_days").value = "3"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        mill = Supplier.get(Supplier.name == "Mill Lane Flour")
        assert (mill.contact, mill.email, mill.phone, mill.lead_days, mill.review_days, mill.order_days,
                mill.min_order, mill.notes, mill.active) == ("Jo", "jo@mill.example", "01234 5678", 3, 14,
                                                             "mon,thu", 15_000, "back door", True)

        while screen.supplier is None or screen.supplier.name != "Mill Lane Flour":
            await pilot.press("down")
            await settle(app, pilot)
        app.deliver_scan(BUTTER)
        await settle(app, pilot)
        link = app.screen
        assert isinstance(link, LinkForm) and link.product.sku == "BUTTER-250"
        link.query_one("#item_code").value = "ML-9"
        link.query_one("#pack_size").value = "10"
        link.query_one("#pack_cost").value = "20.00"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        row = ProductSupplier.get(ProductSupplier.supplier == mill.id)
        assert (row.product.sku, row.item_code, row.pack_size, row.pack_cost) == ("BUTTER-250", "ML-9", 10_000,
                                                                                   2_000)
        assert "ML-9" in table_text(app)


# -- scans into the new dialogs -------------------------------------------------------------------------------------

async def _picker(app, pilot, ctx, tmp_path):
    app.action_open("orders")
    await settle(app, pilot)
    await pilot.press("f9")


async def _line_edit(app, pilot, ctx, tmp_path):
    order = ordering.create_order(ctx, "Hill Farm Dairy")
    ordering.add_line(ctx, order.id, "BUTTER-250")
    await open_order(app, pilot, order.id)
    await pilot.press("ctrl+t")


async def _send(app, pilot, ctx, tmp_path):
    order = ordering.create_order(ctx, "Hill Farm Dairy")
    ordering.add_line(ctx, order.id, "BUTTER-250")
    await open_order(app, pilot, order.id)
    await pilot.press("ctrl+s")


async def _close(app, pilot, ctx, tmp_path):
    order_id = sent_order(ctx, tmp_path)
    await open_order(app, pilot, order_id)
    await pilot.press("f3")
    await settle(app, pilot)
    await pilot.press("f9")


async def _supplier_form(app, pilot, ctx, tmp_path):
    app.action_open("suppliers")
    await settle(app, pilot)
    await pilot.press("f9")


async def _link_form(app, pilot, ctx, tmp_path):
    app.action_open("suppliers")
    await settle(app, pilot)
    await pilot.press("f7")


DIALOGS = {"supplier picker": (_picker, SupplierPicker), "line edit": (_line_edit, LineEdit),
           "send": (_send, ConfirmScreen), "close short": (_close, ConfirmScreen),
           "supplier form": (_supplier_form, SupplierForm), "link form": (_link_form, LinkForm)}


@pytest.mark.parametrize("dialog", list(DIALOGS))
async def test_a_scan_burst_into_each_ordering_dialog_is_refused(shop, make_app, till_ctx, tmp_path, out_dir,
                                                                 dialog):
    butter_from_the_dairy(till_ctx)
    opener, kind = DIALOGS[dialog]
    app = make_app()
    bells: list[int] = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await opener(app, pilot, till_ctx, tmp_path)
        await settle(app, pilot)
        box = app.screen
        assert isinstance(box, kind)
        orders = [(o.id, o.status) for o in PurchaseOrder.select()]
        scan_burst(app, BURST)
        await settle(app, pilot)
        assert app.screen is box, "the scan answered the dialog"
        assert refusals(app) == [f"scan {BURST} NOT added: finish this dialog first"] and bells
        assert all(BURST not in getattr(field, "value", "") for field in box.query("Input"))
        assert [(o.id, o.status) for o in PurchaseOrder.select()] == orders
        assert Supplier.select().where(Supplier.name.contains("5449")).count() == 0


async def test_receive_screen_leads_to_the_orders_awaiting_goods(shop, make_app, till_ctx, tmp_path):
    order_id = sent_order(till_ctx, tmp_path)
    ordering.create_order(till_ctx, "Deli Imports")  # a draft: nothing to receive against yet
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f3", "f9")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, OrdersScreen) and screen.table.row_count == 1
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("f3")
        await settle(app, pilot)
        assert isinstance(app.screen, ReceiveOrderScreen) and app.screen.order_id == order_id


async def test_a_scanner_burst_adds_the_product_to_the_open_order(shop, make_app, till_ctx):
    butter_from_the_dairy(till_ctx)
    order = ordering.create_order(till_ctx, "Hill Farm Dairy")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_order(app, pilot, order.id)
        scan_burst(app, BUTTER)
        await settle(app, pilot)
        assert [(x.product.sku, x.quantity) for x in PurchaseOrderLine.select()
                .where(PurchaseOrderLine.order == order.id)] == [("BUTTER-250", 12_000)]
        assert not refusals(app)


async def test_stock_table_and_low_stock_pane_show_what_is_on_order(shop, make_app, till_ctx, tmp_path):
    from shopkeeper.tui.screens.stock import StockScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, StockScreen)
        tea = next(r for r in screen.alerts.source.window(None, 0, 50) if r.sku == "TEA-EB")
        assert (tea.on_order, tea.suggested) == (0, 12_000)
        order = ordering.create_order(till_ctx, "Bean Roasters")  # another till orders some tea meanwhile
        ordering.add_line(till_ctx, order.id, "TEA-EB", quantity=1_000)
        app.data_changed()
        await settle(app, pilot)
        rows = [line for line in screen_lines(app) if "TEA-EB" in line]
        assert len(rows) == 2  # the stock table and the low-stock pane: still low counting what is on order
        assert all(" 1 " in line for line in rows), rows
        ordering.add_line(till_ctx, order.id, "TEA-EB", quantity=11_000)  # the rest: the order covers it
        app.data_changed()
        await settle(app, pilot)
        rows = [line for line in screen_lines(app) if "TEA-EB" in line]
        assert len(rows) == 1 and " 12 " in rows[0], rows  # on order in the stock table, off the pane
