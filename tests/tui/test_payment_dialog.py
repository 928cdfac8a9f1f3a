"""The till's payment dialog, driven by keys at 80×24: split over cash and card, change only from cash, cash
rounding, a refund paid back as the sale was paid, and scanner bursts refused rather than taken as amounts."""

from __future__ import annotations

import dataclasses

from shopkeeper.models import Payment, Sale
from shopkeeper.tui.screens.payment import PaymentScreen
from tests.tui.conftest import press_alone, scan_burst, settle
from tests.tui.test_sell import COFFEE, SIZE, last_sale, open_sell


def payments(sale_id: int) -> list[tuple]:
    return [(p.method, p.amount, p.tendered, p.change)
            for p in Payment.select().where(Payment.sale == sale_id).order_by(Payment.id)]


def text(dialog, selector: str) -> str:
    return str(dialog.query_one(selector).content)


async def coffee_in_dialog(app, pilot):
    """Coffee (11.50) on the till and the payment dialog open (F7)."""
    screen = await open_sell(app, pilot)
    app.deliver_scan(COFFEE)
    await settle(app, pilot)
    await pilot.press("f7")
    await settle(app, pilot)
    assert isinstance(app.screen, PaymentScreen)
    return screen, app.screen


async def test_part_cash_part_card(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, dialog = await coffee_in_dialog(app, pilot)
        await pilot.press("5", "enter")  # 5.00 cash of 11.50
        await settle(app, pilot)
        assert app.screen is dialog
        assert text(dialog, "#pay-taken") == "Taken: cash 5.00" and text(dialog, "#pay-remaining") == "Remaining 6.50"
        await press_alone(app, pilot, "f8", "enter")  # the rest by card
        await settle(app, pilot)
        sale = last_sale()
        assert (sale.payment, sale.total, sale.tendered, sale.change) == ("split", 1150, 500, 0)
        assert payments(sale.id) == [("cash", 500, 500, 0), ("card", 650, None, None)]
        assert "card 6.50" in str(screen.query_one("#status").content)


async def test_one_cash_payment_keeps_its_keys_and_shows_the_change(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, dialog = await coffee_in_dialog(app, pilot)
        await pilot.press("2", "0")
        await settle(app, pilot)
        assert text(dialog, "#pay-change") == "CHANGE 8.50"
        await pilot.press("enter")
        await settle(app, pilot)
        assert payments(last_sale().id) == [("cash", 1150, 2000, 850)]
        assert "CHANGE 8.50" in str(screen.query_one("#status").content)


async def test_card_above_what_is_due_is_refused(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        _, dialog = await coffee_in_dialog(app, pilot)
        sales_before = Sale.select().count()
        await press_alone(app, pilot, "f8")
        await pilot.press("2", "0", "enter")
        await settle(app, pilot)
        assert app.screen is dialog and Sale.select().count() == sales_before
        assert any("change is given only from cash" in n.message for n in app._notifications)


async def test_cash_rounding_shows_the_rounded_due_and_is_recorded(demo_db, make_app, till_ctx):
    app = make_app(dataclasses.replace(till_ctx, cash_rounding=5))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        app.deliver_scan(COFFEE)
        await settle(app, pilot)
        await press_alone(app, pilot, "f8", "enter")  # a card sale first: 11.50, never rounded
        await settle(app, pilot)
        for _ in range(3):
            app.deliver_scan("4006381333931")  # milk 3 × 1.29 = 3.87
        await settle(app, pilot)
        await pilot.press("f7")
        await settle(app, pilot)
        assert "in cash 3.85 (rounded)" in text(app.screen, "#pay-remaining")
        await pilot.press("enter")
        await settle(app, pilot)
        sale = last_sale()
        assert (sale.total, sale.rounding, sale.tendered) == (387, -2, 385)
        assert sum(p.amount for p in Payment.select().where(Payment.sale == sale.id)) == sale.total + sale.rounding
        assert "3.85 cash" in str(screen.query_one("#status").content)


async def test_a_scan_in_the_payment_dialog_is_refused_not_taken_as_an_amount(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        _, dialog = await coffee_in_dialog(app, pilot)
        sales_before = Sale.select().count()
        scan_burst(app, "5449000000996")
        await settle(app, pilot)
        assert app.screen is dialog and Sale.select().count() == sales_before
        assert dialog.query_one("#pay-amount").value == ""
        assert any("5449000000996" in n.message for n in app._notifications)
        # then the cashier pays the exact amount (a key between ends the field's own burst watch, as the quiet
        # before a person's Enter does; a test cannot wait for that quiet)
        await press_alone(app, pilot, "backspace", "enter")
        await settle(app, pilot)
        assert payments(last_sale().id) == [("cash", 1150, 1150, 0)]


async def test_refund_shows_how_the_sale_was_paid_and_pays_back_the_same_way(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, _ = await coffee_in_dialog(app, pilot)
        await press_alone(app, pilot, "f8")
        await pilot.press("2", "enter")  # card 2.00
        await press_alone(app, pilot, "f7", "enter")  # cash the rest
        await settle(app, pilot)
        sold = last_sale()
        assert sold.payment == "split"
        await pilot.press("ctrl+f", *str(sold.id), "enter", "enter")
        await settle(app, pilot)
        assert "(paid card 2.00 + cash 9.50)" in str(screen.query_one("#sale-mode").content)
        await pilot.press("f7")
        await settle(app, pilot)
        dialog = app.screen
        assert text(dialog, "#pay-original") == "The sale was paid: card 2.00, cash 9.50"
        await press_alone(app, pilot, "enter")  # as paid
        await settle(app, pilot)
        back = last_sale()
        assert (back.kind, back.original_id, back.payment) == ("return", sold.id, "split")
        assert payments(back.id) == [("card", -200, None, None), ("cash", -950, None, None)]


async def test_refund_dialog_lists_each_method_once_for_a_sale_paid_in_two_cash_parts(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen, _ = await coffee_in_dialog(app, pilot)
        await pilot.press("5", "enter")  # 5.00 cash of 11.50: a part payment
        await press_alone(app, pilot, "enter")  # the rest in cash
        await settle(app, pilot)
        sold = last_sale()
        assert [m for m, *_ in payments(sold.id)] == ["cash", "cash"]
        await pilot.press("ctrl+f", *str(sold.id), "enter", "enter")
        await settle(app, pilot)
        assert "(paid cash)" in str(screen.query_one("#sale-mode").content)
        await pilot.press("f7")
        await settle(app, pilot)
        assert text(app.screen, "#pay-original") == "The sale was paid: cash 11.50"


async def test_card_key_opens_the_dialog_on_card_and_charges_nothing_until_enter(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        app.deliver_scan(COFFEE)
        await settle(app, pilot)
        sales_before = Sale.select().count()
        await press_alone(app, pilot, "f8")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, PaymentScreen) and Sale.select().count() == sales_before
        assert str(dialog.query_one("#pay-method").content) == "Card"
        assert text(dialog, "#pay-remaining") == "Remaining 11.50"
        await press_alone(app, pilot, "enter")  # the rest, by card
        await settle(app, pilot)
        assert payments(last_sale().id) == [("card", 1150, None, None)]
