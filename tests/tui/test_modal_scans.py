"""A scan that arrives while a dialog is open is refused out loud (bell + notification), never dropped silently."""

from __future__ import annotations

import pytest

from shopkeeper.models import Movement
from shopkeeper.tui.screens.confirm import ConfirmScreen
from shopkeeper.tui.screens.help import HelpScreen
from shopkeeper.tui.screens.staff import StaffScreen
from tests.tui.conftest import settle

SIZE = (80, 24)
WATER = "5449000000996"


def refusals(app) -> list[str]:
    return [n.message for n in app._notifications if "finish this dialog first" in n.message]


@pytest.mark.parametrize("make_modal", [
    lambda: ConfirmScreen("Post all variances?"),
    lambda: HelpScreen(),
    lambda: StaffScreen(first=False),
], ids=["confirm", "help", "staff"])
async def test_device_scan_during_a_modal_rings_and_says_so(shop, make_app, make_modal):
    app = make_app()
    bells = []
    app.bell = lambda: bells.append(1)
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
    bells = []
    app.bell = lambda: bells.append(1)
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
        assert refusals(app) == []
