"""The sell screen meets an expired item: a warning the cashier must acknowledge with a deliberate key."""

from __future__ import annotations

from textual.widgets import Static

from shopkeeper.models import SaleLine
from shopkeeper.services import till
from shopkeeper.tui.screens.sell import ExpiredScreen
from tests.tui.conftest import press_alone, settle
from tests.tui.test_sell import SIZE, open_sell, rows, wedge

EXPIRED_MILK = "]d2010400638133393117250131" + "10L2501"  # GS1 DataMatrix: MILK-1L, expired 2025-01-31, lot L2501
MILK = "4006381333931"


async def test_expired_item_is_sold_only_after_ctrl_e_never_by_a_scans_enter(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        app.deliver_scan(EXPIRED_MILK)
        await settle(app, pilot)
        assert isinstance(app.screen, ExpiredScreen)
        shown = " ".join(str(w.content) for w in app.screen.query(Static))
        assert "MILK-1L Whole milk 1 l: EXPIRED on 2025-01-31, lot L2501" in shown
        await pilot.press("enter")  # the Enter that ends a scan does not answer
        wedge(app, MILK)  # nor does a whole wedge burst typed at the dialog
        app.deliver_scan(MILK)  # and a device scan is refused out loud
        await settle(app, pilot)
        assert isinstance(app.screen, ExpiredScreen)
        assert till.current_sale(app.ctx).empty
        await pilot.press("ctrl+e")
        await settle(app, pilot)
        assert app.screen is screen
        assert rows(screen) == [("Whole milk 1 l", "1")]
        await press_alone(app, pilot, "f8", "enter")  # card
        await settle(app, pilot)
        line = SaleLine.select().order_by(SaleLine.id.desc()).first()
        assert (line.lot, line.expiry) == ("L2501", "2025-01-31")


async def test_expired_item_escape_leaves_it_unsold(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        app.deliver_scan(EXPIRED_MILK)
        await settle(app, pilot)
        assert isinstance(app.screen, ExpiredScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is screen and rows(screen) == []
        assert till.current_sale(app.ctx).empty


def _terminal_keys(app, text: str) -> None:
    """A keyboard-emulating scanner, as a terminal delivers it: each character as the key Textual names it
    (``?`` is ``question_mark``), then Enter, all queued before the app handles the first."""
    from textual import events
    from textual.keys import _character_to_key

    for ch in text:
        app.post_message(events.Key(_character_to_key(ch), ch))
    app.post_message(events.Key("enter", "\r"))


async def test_a_digital_link_with_a_query_scanned_into_the_code_field_sells_and_does_not_open_help(demo_db,
                                                                                                   make_app):
    # GS1 Digital Link 1.2 (https://ref.gs1.org/standards/digital-link/), section 4.5's form: GTIN in the path,
    # expiry (17) in the query string. MILK-1L's GTIN, expired 2025-01-31, lot L2501.
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        _terminal_keys(app, "https://id.gs1.org/01/04006381333931/10/L2501?17=250131")
        await settle(app, pilot)
        assert isinstance(app.screen, ExpiredScreen)  # not the help screen, and the query was read
        await pilot.press("ctrl+e")
        await settle(app, pilot)
        assert app.screen is screen and rows(screen) == [("Whole milk 1 l", "1")]
        assert screen.code_input.value == ""


async def test_a_group_separator_typed_by_a_wedge_scanner_joins_the_element_string(demo_db, make_app):
    # A GS1 DataMatrix with a variable-length lot (10) before expiry (17) and serial (21): the scanner ends the
    # lot with FNC1, which a keyboard wedge types as Ctrl+] (ASCII 29). GS1 General Specifications 7.8.5.
    from textual import events

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        for ch in "]d2010400638133393110L2601":
            app.post_message(events.Key(ch, ch))
        app.post_message(events.Key("ctrl+right_square_bracket", "\x1d"))
        for ch in "1729123121SN42":
            app.post_message(events.Key(ch, ch))
        app.post_message(events.Key("enter", "\r"))
        await settle(app, pilot)
        assert app.screen is screen and rows(screen) == [("Whole milk 1 l", "1")]
        assert screen.code_input.value == ""
        await press_alone(app, pilot, "f8", "enter")  # card
        await settle(app, pilot)
        line = SaleLine.select().order_by(SaleLine.id.desc()).first()
        assert (line.lot, line.expiry) == ("L2601", "2029-12-31")


async def test_a_typed_code_shows_the_group_separator_and_reads_it(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        await pilot.press(*"0104006381333931", "1", "0", *"L7", "ctrl+right_square_bracket", *"17291231")
        assert screen.code_input.value == "010400638133393110L7␝17291231"
        await pilot.press("enter")
        await settle(app, pilot)
        assert rows(screen) == [("Whole milk 1 l", "1")]
