"""The sell screen's lines and totals: where the cursor goes, what a discount shows, what a bad prefix does."""

from __future__ import annotations

from shopkeeper.models import Product
from tests.tui.conftest import scan_burst, settle
from tests.tui.test_sell import MILK, SIZE, open_sell, rows, type_code


async def test_removing_a_line_keeps_the_cursor_at_its_place(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        for code in (MILK, "8711000530085", "WINE-RED", "TEA-EB"):
            app.deliver_scan(code)
        await settle(app, pilot)
        await pilot.press("up", "up")  # the coffee, second of four
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert [r[0] for r in rows(screen)] == ["Whole milk 1 l", "House red wine 75 cl", "English breakfast tea x80"]
        assert screen.selected == screen.draft.lines[1].id, "the cursor should be on the next line, the wine"
        await pilot.press("ctrl+r")  # a second Ctrl+R removes the wine, not the last line
        await settle(app, pilot)
        assert [r[0] for r in rows(screen)] == ["Whole milk 1 l", "English breakfast tea x80"]
        await pilot.press("ctrl+r")  # the last line: the cursor moves up to the line before it
        await settle(app, pilot)
        assert [r[0] for r in rows(screen)] == ["Whole milk 1 l"]
        assert screen.selected == screen.draft.lines[0].id


async def test_negative_quantity_before_a_scan_is_a_message_not_a_product(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        products = Product.select().count()
        await pilot.press("-", "2", "*")
        app.deliver_scan("5449000000996")
        await settle(app, pilot)
        await type_code(pilot, "-2*5449000000996")
        await settle(app, pilot)
        assert screen.draft.empty and Product.select().count() == products
        assert app.screen is screen, "no unknown-code dialog"
        messages = [n.message for n in app._notifications]
        assert sum("must be a positive number" in m for m in messages) == 2, messages


async def test_a_percent_line_discount_shows_as_percent_and_survives_a_quantity_change(demo_db, make_app):
    from shopkeeper.tui.widgets.sale_lines import SaleLinesView

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        await type_code(pilot, "3*5449000000996")  # water, 3 × 0.89
        await settle(app, pilot)
        await pilot.press("ctrl+l", *"10%", "enter")
        await settle(app, pilot)
        view = screen.query_one("#lines", SaleLinesView)
        assert view.get_row(0)[4:] == ("10 %", "2.40")
        await pilot.press("ctrl+t", "ctrl+u", "1", "enter")
        await settle(app, pilot)
        assert view.get_row(0)[2:] == ("1", "0.89", "10 %", "0.80")
        await pilot.press("ctrl+b", *"5 %", "enter")
        await settle(app, pilot)
        assert "Subtotal 0.80  Sale disc 5 % -0.04" in str(screen.query_one("#totals").content)


async def test_removing_lines_under_a_sale_discount_says_so_and_keeps_the_sale_payable(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        app.deliver_scan(MILK)
        app.deliver_scan("8711000530085")
        await settle(app, pilot)
        await pilot.press("ctrl+b", *"5.00", "enter")
        await settle(app, pilot)
        await pilot.press("ctrl+r")  # the coffee: 1.29 left
        await settle(app, pilot)
        totals = str(screen.query_one("#totals").content)
        assert "Subtotal" not in totals and "TOTAL EUR 1.29" in totals
        assert any("sale discount of 5.00" in n.message for n in app._notifications)
        assert str(screen.query_one("#status").content) == ""


async def test_a_quantity_typed_before_a_terminal_scanners_burst_applies_to_it(demo_db, make_app):
    """A keyboard-wedge scanner types into the code field: the "3*" waiting there is the scanned item's quantity,
    and a "-2*" waiting there is refused out loud; neither is dropped with the item sold once."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        await type_code(pilot, "3*")  # quantity, then Enter: waits for the item
        await settle(app, pilot)
        scan_burst(app, MILK)
        await settle(app, pilot)
        assert rows(screen) == [("Whole milk 1 l", "3")]
        assert screen.code_input.value == ""
        products = Product.select().count()
        await pilot.press("-", "2", "*")  # typed, no Enter: waits in the field for the scan
        await settle(app, pilot)
        scan_burst(app, "5449000000996")
        await settle(app, pilot)
        assert rows(screen) == [("Whole milk 1 l", "3")] and Product.select().count() == products
        assert any("must be a positive number" in n.message for n in app._notifications)
