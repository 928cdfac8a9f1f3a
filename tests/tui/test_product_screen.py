"""The product screen at a shop with several tills: it saves only what the user changed, follows the database in
the fields the user has not touched, lets the user settle a clash, asks before throwing edits away, and keeps the
shop's own codes as they are."""

from __future__ import annotations

from shopkeeper.barcode_settings import BarcodeSettings, VariableMeasureLayout
from shopkeeper.config import Config
from shopkeeper.models import Product, ProductChange
from shopkeeper.services import catalog, stock
from shopkeeper.services.context import Context
from shopkeeper.tui.screens.confirm import ChoiceScreen, ConfirmScreen
from shopkeeper.tui.screens.product import ProductScreen
from shopkeeper.tui.widgets.virtual_table import VirtualTable
from tests.tui.conftest import press_alone, settle

SIZE = (80, 24)
OTHER_TILL = Context(staff="Kim", terminal="till-2")


def milk() -> Product:
    return Product.get(Product.sku == "MILK-1L")


async def open_product(app, pilot, sku: str = "MILK-1L") -> ProductScreen:
    await settle(app, pilot)
    app.action_open_product(Product.get(Product.sku == sku).id)
    await settle(app, pilot)
    assert isinstance(app.screen, ProductScreen)
    return app.screen


async def test_a_save_keeps_the_average_cost_another_tills_delivery_raised(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_product(app, pilot)
        stock.receive(OTHER_TILL, "MILK-1L", 30_000, 100)  # 28 @ 0.82 + 30 @ 1.00: average 0.91
        screen.query_one("#price").value = "1.35"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert (milk().price, milk().avg_cost, milk().on_hand) == (135, 91, 58_000)


async def test_fields_not_edited_follow_other_tills_live_and_edited_ones_stay(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_product(app, pilot)
        screen.query_one("#name").value = "Whole milk 1 litre"
        catalog.save_product(catalog.ProductData(sku="MILK-1L", price=139, name="Milk"), ctx=OTHER_TILL)
        app.data_changed()
        await settle(app, pilot)
        assert screen.query_one("#price").value == "1.39"
        assert screen.query_one("#name").value == "Whole milk 1 litre"


async def test_a_clash_offers_keep_mine(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_product(app, pilot)
        screen.query_one("#price").value = "1.35"
        catalog.save_product(catalog.ProductData(sku="MILK-1L", price=139), ctx=OTHER_TILL)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceScreen)
        assert milk().price == 139  # nothing saved yet
        await pilot.press("enter")  # Enter alone (a scan's last key) stays: the focus starts on Stay
        await settle(app, pilot)
        assert app.screen is screen and milk().price == 139 and screen.query_one("#price").value == "1.35"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await press_alone(app, pilot, "k")
        await settle(app, pilot)
        assert milk().price == 135


async def test_a_clash_offers_take_theirs_and_saves_the_other_edits(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_product(app, pilot)
        screen.query_one("#price").value = "1.35"
        screen.query_one("#category").value = "Dairy"
        catalog.save_product(catalog.ProductData(sku="MILK-1L", price=139), ctx=OTHER_TILL)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await press_alone(app, pilot, "t")
        await settle(app, pilot)
        assert (milk().price, milk().category) == (139, "Dairy")
        assert screen.query_one("#price").value == "1.39"


async def test_escape_with_unsaved_edits_asks_save_discard_or_stay(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_product(app, pilot)
        screen.query_one("#category").value = "Dairy"
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("escape")  # stay
        await settle(app, pilot)
        assert app.screen is screen and screen.query_one("#category").value == "Dairy"
        await pilot.press("escape")
        await settle(app, pilot)
        await press_alone(app, pilot, "s")  # save
        await settle(app, pilot)
        assert milk().category == "Dairy"
        assert not isinstance(app.screen, ProductScreen)
        screen = await open_product(app, pilot)
        screen.query_one("#category").value = "Fridge"
        await pilot.press("escape")
        await settle(app, pilot)
        await press_alone(app, pilot, "d")  # discard
        await settle(app, pilot)
        assert milk().category == "Dairy" and not isinstance(app.screen, ProductScreen)


async def test_codes_with_spaces_underscores_and_plus_survive_saves(shop, make_app):
    catalog.save_product(catalog.ProductData(sku="MILK-1L", barcodes=["4006381333931", "AB 12"]))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_product(app, pilot)
        screen.query_one("#price").value = "1.35"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert catalog.product_barcodes(milk()) == ["4006381333931", "AB 12"]
        screen.query_one("#barcodes").value = "AB 12, SHELF_7, X+1"
        await pilot.pause()
        assert "✗" not in str(screen.query_one("#barcodes-msg").content)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert catalog.product_barcodes(milk()) == ["AB 12", "SHELF_7", "X+1"]


async def test_a_new_average_cost_is_a_confirmed_and_logged_revaluation(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_product(app, pilot)
        screen.query_one("#avg_cost").value = "0.90"
        screen.query_one("#price").value = "1.35"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "+2.24" in app.screen.question  # 28 on hand × 0.08
        await press_alone(app, pilot, "y")
        await settle(app, pilot)
        assert (milk().avg_cost, milk().price) == (90, 135)
        change = ProductChange.select().where(ProductChange.field == "avg_cost").order_by(ProductChange.id.desc()).get()
        assert (change.old, change.new, change.kind, change.staff.name, change.terminal.name) == (
            "82", "90", "revaluation", "Sam", "till-1")
        await pilot.press("f6", "f6")
        await settle(app, pilot)
        table = screen.query_one("#product-changes", VirtualTable)
        rows = [table._row_at(i) for i in range(table.row_count)]
        assert [(r.field, r.old, r.new) for r in rows[:2]] == [("avg_cost", "82", "90"), ("price", "129", "135")]


async def test_a_scale_label_typed_as_a_barcode_is_stored_as_its_item_code(shop, db_path, till_ctx):
    from shopkeeper.tui.app import ShopkeeperApp

    layouts = BarcodeSettings(variable_measure=(VariableMeasureLayout(prefix="28", measure="weight",
                                                                      pattern="PPIIIIIVVVVV", decimals=3),))
    app = ShopkeeperApp(str(db_path), Config(extra={"barcodes": layouts}), till_ctx, poll_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_product(app, pilot, "OLIVES-KG")
        screen.query_one("#barcodes").value = "2812345015001"
        await pilot.pause()
        assert "item code 2812345000007" in str(screen.query_one("#barcodes-msg").content)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert catalog.product_barcodes(Product.get(Product.sku == "OLIVES-KG")) == ["2812345000007"]
        assert screen.query_one("#barcodes").value == "2812345000007"
        assert "scale item 12345" in str(screen.query_one("#barcodes-msg").content)


async def test_a_scan_into_a_product_field_is_refused_and_taken_back_out(shop, make_app):
    """Scanning on the Stock screen opens the product with its name focused: the next scan was typed into the
    name, and a save (or "s" when leaving) stored it."""
    from tests.tui.conftest import scan_burst

    app = make_app()
    bells: list[int] = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_product(app, pilot)
        name = screen.query_one("#name").value
        assert app.focused.id == "name"
        scan_burst(app, "5449000000996")
        await settle(app, pilot)
        assert screen.query_one("#name").value == name
        assert bells == [1] and any("5449000000996" in n.message for n in app._notifications)
        screen.query_one("#barcodes").focus()
        await settle(app, pilot)
        before = screen.query_one("#barcodes").value
        scan_burst(app, "5449000000996")  # into Barcodes a scan adds its code (it replaced the codes there)
        await settle(app, pilot)
        assert screen.query_one("#barcodes").value == f"{before}, 5449000000996" and bells == [1]
