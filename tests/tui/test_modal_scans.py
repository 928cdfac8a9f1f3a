"""A scan that arrives while a dialog is open is refused out loud (bell + notification), never dropped silently and
never taken as key presses or answers: not the Enter that ends it, not a ``y``, ``n``, ``c`` or ``o`` inside it."""

from __future__ import annotations

import pytest

from shopkeeper.models import CountLine, CountSession, Movement, Product, Sale
from shopkeeper.services import till
from shopkeeper.tui.screens.confirm import ConfirmScreen
from shopkeeper.tui.screens.help import HelpScreen
from shopkeeper.tui.screens.staff import StaffScreen
from tests.tui.conftest import press_alone, scan_burst, settle

SIZE = (80, 24)
WATER = "5449000000996"
MILK, COFFEE, BUTTER = "4006381333931", "8711000530085", "5000112548167"
# Codes a scanner may well send, each holding the keys that answer the dialog it is scanned into.
YES_CODE = "toy-5449y"
NO_CODE = "n0n-5449"
HOTKEY_CODE = "co-op-0042"


def refusals(app) -> list[str]:
    return [n.message for n in app._notifications if "finish this dialog first" in n.message]


def ring(app) -> list[int]:
    bells: list[int] = []
    app.bell = lambda: bells.append(1)
    return bells


def sale_units(app) -> list[tuple[str, int]]:
    return [(line.description, line.quantity) for line in till.current_sale(app.ctx).lines]


async def sell_three(app, pilot):
    await settle(app, pilot)
    await pilot.press("f2")
    await settle(app, pilot)
    for code in (MILK, COFFEE, BUTTER):
        app.deliver_scan(code)
    await settle(app, pilot)
    return app.screen


async def count_two(app, pilot):
    await settle(app, pilot)
    await pilot.press("f5")
    await settle(app, pilot)
    await pilot.press(*"MILK-1L", "enter", *"27", "enter")
    await pilot.press(*"CANDLE", "enter", "5", "enter")
    await settle(app, pilot)
    return app.screen


def count_state(screen) -> tuple[str, int]:
    session = CountSession.get_by_id(screen.session_id)
    return session.status, CountLine.select().where(CountLine.session == session.id).count()


# -- confirmations ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", [WATER, YES_CODE, NO_CODE], ids=["digits", "with-y", "with-n"])
async def test_scan_into_void_this_sale_is_refused_and_the_sale_stays(shop, make_app, code):
    app = make_app()
    bells = ring(app)
    async with app.run_test(size=SIZE) as pilot:
        await sell_three(app, pilot)
        before = sale_units(app)
        assert len(before) == 3
        await pilot.press("ctrl+n")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        scan_burst(app, code)
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen), "the scan answered the question"
        assert bells and refusals(app) == [f"scan {code} NOT added: finish this dialog first"]
        assert sale_units(app) == before
        await pilot.press("escape")
        await settle(app, pilot)
        assert sale_units(app) == before


@pytest.mark.parametrize("code", [WATER, YES_CODE], ids=["digits", "with-y"])
async def test_scan_into_post_count_is_refused_and_nothing_is_posted(shop, make_app, code):
    app = make_app()
    bells = ring(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = await count_two(app, pilot)
        movements = Movement.select().count()
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        scan_burst(app, code)
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen), "the scan answered the question"
        assert bells and len(refusals(app)) == 1
        assert count_state(screen) == ("open", 2) and Movement.select().count() == movements
        await pilot.press("escape")
        await settle(app, pilot)
        assert count_state(screen) == ("open", 2)


@pytest.mark.parametrize("code", [WATER, YES_CODE], ids=["digits", "with-y"])
async def test_scan_into_cancel_count_is_refused_and_the_counted_lines_stay(shop, make_app, code):
    app = make_app()
    bells = ring(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = await count_two(app, pilot)
        assert isinstance(app.focused, type(screen.query_one("#code")))  # the code field has the focus
        await pilot.press("ctrl+x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        scan_burst(app, code)
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen), "the scan answered the question"
        assert bells and len(refusals(app)) == 1
        assert count_state(screen) == ("open", 2)
        await pilot.press("escape")
        await settle(app, pilot)
        assert count_state(screen) == ("open", 2)


async def test_enter_alone_keeps_the_sale_and_y_alone_voids_it(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sell_three(app, pilot)
        before = sale_units(app)
        await pilot.press("ctrl+n")
        await settle(app, pilot)
        assert app.focused.id == "no"
        await pilot.press("enter")  # the default is "Keep"
        await settle(app, pilot)
        assert not isinstance(app.screen, ConfirmScreen) and sale_units(app) == before
        await pilot.press("ctrl+n")
        await settle(app, pilot)
        await press_alone(app, pilot, "y")
        await settle(app, pilot)
        assert sale_units(app) == [] and Sale.select().count() == 2  # voided, not sold


async def test_choosing_yes_with_the_arrows_then_enter_confirms(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sell_three(app, pilot)
        await pilot.press("ctrl+n")
        await settle(app, pilot)
        await pilot.press("left")
        assert app.focused.id == "yes"
        await pilot.press("enter")
        await settle(app, pilot)
        assert sale_units(app) == []


# -- the till's other dialogs -----------------------------------------------------------------------------------

async def test_scan_with_hotkey_letters_into_the_unknown_code_dialog_is_refused(shop, make_app):
    from shopkeeper.tui.screens.sell import PromptScreen, UnknownCodeScreen

    app = make_app()
    bells = ring(app)
    async with app.run_test(size=SIZE) as pilot:
        await sell_three(app, pilot)
        app.deliver_scan("9780306406157")
        await settle(app, pilot)
        assert isinstance(app.screen, UnknownCodeScreen)
        bells.clear()
        scan_burst(app, HOTKEY_CODE)  # c: create, o: one-off
        await settle(app, pilot)
        assert isinstance(app.screen, UnknownCodeScreen) and not isinstance(app.screen, PromptScreen)
        assert bells == [1] and refusals(app) == [f"scan {HOTKEY_CODE} NOT added: finish this dialog first"]
        assert Product.select().count() == 12 and len(sale_units(app)) == 3
        await press_alone(app, pilot, "o")  # a key pressed on its own still chooses
        await settle(app, pilot)
        assert isinstance(app.screen, PromptScreen)


async def open_new_product(app, pilot):
    await sell_three(app, pilot)
    app.deliver_scan("9780306406157")
    await settle(app, pilot)
    await press_alone(app, pilot, "c")
    await settle(app, pilot)


async def open_cash(app, pilot):
    await sell_three(app, pilot)
    await pilot.press("f7")
    await settle(app, pilot)


async def open_refund(app, pilot):
    await sell_three(app, pilot)
    await pilot.press("ctrl+f")
    await settle(app, pilot)


async def open_park_note(app, pilot):
    await sell_three(app, pilot)
    await pilot.press("ctrl+y")
    await settle(app, pilot)


async def open_price(app, pilot):
    await sell_three(app, pilot)
    await pilot.press("ctrl+s")  # the field holds the line's price: a scan must leave it as it was
    await settle(app, pilot)


async def open_quantity(app, pilot):
    await sell_three(app, pilot)
    await pilot.press("ctrl+t")
    await settle(app, pilot)


@pytest.mark.parametrize("open_dialog", [open_new_product, open_cash, open_refund, open_park_note, open_price,
                                         open_quantity],
                         ids=["new-product", "payment", "refund", "park", "price", "quantity"])
async def test_scan_into_a_till_prompt_is_refused_and_taken_back_out_of_the_field(shop, make_app, open_dialog):
    from shopkeeper.tui.screens.payment import PaymentScreen
    from shopkeeper.tui.screens.sell import PromptScreen

    app = make_app()
    bells = ring(app)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(app, pilot)
        assert isinstance(app.screen, (PromptScreen, PaymentScreen))
        dialog = app.screen
        field = app.focused
        bells.clear()
        typed = field.value
        sales, products, draft = Sale.select().count(), Product.select().count(), sale_units(app)
        scan_burst(app, YES_CODE)
        await settle(app, pilot)
        assert app.screen is dialog and app.focused is field, "the scan's Enter answered the prompt"
        assert bells == [1] and len(refusals(app)) == 1
        assert field.value == typed, "the scanned code was left in the field"
        assert (Sale.select().count(), Product.select().count(), sale_units(app)) == (sales, products, draft)


async def test_scan_into_the_parked_sales_list_does_not_resume_one(shop, make_app):
    from shopkeeper.tui.screens.sell import ParkedScreen

    app = make_app()
    bells = ring(app)
    async with app.run_test(size=SIZE) as pilot:
        await sell_three(app, pilot)
        await pilot.press("ctrl+y", *"later", "enter")
        await settle(app, pilot)
        app.deliver_scan(WATER)
        await settle(app, pilot)
        await pilot.press("ctrl+o")
        await settle(app, pilot)
        assert isinstance(app.screen, ParkedScreen)
        scan_burst(app, MILK)
        await settle(app, pilot)
        assert isinstance(app.screen, ParkedScreen), "the scan's Enter resumed the highlighted sale"
        assert bells and len(refusals(app)) == 1
        assert sale_units(app) == [("Still water 1.5 l", 1000)] and len(till.parked_sales()) == 1


# -- staff and help ---------------------------------------------------------------------------------------------

async def test_scan_into_the_staff_chooser_is_refused_and_no_one_is_recorded(shop, make_app):
    app = make_app()
    bells = ring(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_choose_staff()
        await settle(app, pilot)
        assert isinstance(app.screen, StaffScreen)
        scan_burst(app, WATER)
        await settle(app, pilot)
        assert isinstance(app.screen, StaffScreen) and app.ctx.staff == "Sam"
        assert bells == [1] and len(refusals(app)) == 1
        assert app.screen.query_one("#staff-new").value == ""


async def test_scan_into_help_is_refused_out_loud(shop, make_app):
    app = make_app()
    bells = ring(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f1")
        await settle(app, pilot)
        scan_burst(app, WATER)
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        assert bells == [1] and len(refusals(app)) == 1


async def test_scan_into_the_command_palette_runs_no_command(shop, make_app):
    from textual.command import CommandPalette

    app = make_app()
    bells = ring(app)
    async with app.run_test(size=SIZE) as pilot:
        await sell_three(app, pilot)
        before = sale_units(app)
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        assert isinstance(app.screen, CommandPalette)
        scan_burst(app, "void")  # would find "Void" and run it with its Enter
        await settle(app, pilot)
        assert isinstance(app.screen, CommandPalette) and bells and len(refusals(app)) == 1
        assert app.focused.value == ""
        assert sale_units(app) == before


async def test_tab_terminated_scan_into_a_dialog_is_refused(shop, make_app):
    from shopkeeper.scanner.settings import ScannerSettings
    from shopkeeper.tui.widgets import scan_input

    app = make_app()
    bells = ring(app)
    async with app.run_test(size=SIZE) as pilot:
        await sell_three(app, pilot)
        before = sale_units(app)
        scan_input.configure_wedge(ScannerSettings(terminators=("enter", "tab")))
        try:
            await pilot.press("ctrl+n")
            await settle(app, pilot)
            await pilot.press("left")  # even with "Void" chosen
            scan_burst(app, WATER, terminator="tab")
            await settle(app, pilot)
            assert app.focused.id == "yes" and bells and len(refusals(app)) == 1
            assert sale_units(app) == before
        finally:
            scan_input.configure_wedge(ScannerSettings())


# -- the three routes a scan takes, as before -----------------------------------------------------------------

@pytest.mark.parametrize("make_modal", [
    lambda: ConfirmScreen("Post all variances?"),
    lambda: HelpScreen(),
    lambda: StaffScreen(first=False),
], ids=["confirm", "help", "staff"])
async def test_device_scan_during_a_modal_rings_and_says_so(shop, make_app, make_modal):
    app = make_app()
    bells = ring(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f3")  # Receive would take the scan...
        await settle(app, pilot)
        receive = app.screen
        app.push_screen(make_modal())  # ...but a dialog is on top of it
        await settle(app, pilot)
        movements = Movement.select().count()
        app.deliver_scan(WATER, "usb-scanner")
        await settle(app, pilot)
        assert bells == [1]
        assert refusals(app) == [f"scan {WATER} NOT added: finish this dialog first"]
        assert receive.product is None, "the scan went through to the screen under the dialog"
        assert Movement.select().count() == movements


async def test_wedge_scan_into_a_dialog_field_is_refused_by_the_dialog(shop, make_app):
    from shopkeeper.tui.screens.base import ShopModal
    from shopkeeper.tui.widgets.scan_input import Scanned

    app = make_app()
    bells = ring(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(ConfirmScreen("Cancel the count?"))
        await settle(app, pilot)
        assert isinstance(app.screen, ShopModal)
        app.screen.query_one("#yes").post_message(Scanned(WATER, source="wedge"))  # bubbles up to the dialog
        await settle(app, pilot)
        assert bells == [1]
        assert len(refusals(app)) == 1
        assert isinstance(app.screen, ConfirmScreen), "the dialog is still waiting for its answer"


async def test_scan_with_no_dialog_still_reaches_the_screen(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f3")
        await settle(app, pilot)
        app.deliver_scan(WATER, "usb-scanner")
        await settle(app, pilot)
        assert app.screen.product.sku == "WATER-1.5"
        scan_burst(app, "MILK-1L")  # and a terminal scanner's burst, too
        await settle(app, pilot)
        assert app.screen.product.sku == "MILK-1L"
        assert refusals(app) == []
