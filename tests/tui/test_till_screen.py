"""The Till screen (F11): open with a float, cash out with a reason, no sale, X report, close with the count and see
the Z report; the sell screen asks for a session when paying without one and never loses the sale; a scanner's
burst into any of these dialogs is refused out loud, never taken as an answer."""

from __future__ import annotations

from dataclasses import replace

from shopkeeper.models import CashMovement, Sale, TillSession, TillSessionClose
from shopkeeper.services import till, till_session
from shopkeeper.tui.screens.confirm import ChoiceScreen, ConfirmScreen
from shopkeeper.tui.screens.sell import PromptScreen, ReceiptScreen
from shopkeeper.tui.screens.till import TillScreen
from tests.tui.conftest import press_alone, scan_burst, screen_lines, settle

SIZE = (80, 24)
MILK = "4006381333931"
SCAN = "5449000000996"
SCAN_WITH_ANSWERS = "toy-5449y"  # a code holding "y": Yes in a confirmation


def _last_sale() -> Sale:
    return Sale.select().order_by(Sale.id.desc()).first()


def refusals(app) -> list[str]:
    return [n.message for n in app._notifications if "finish this dialog first" in n.message]


async def open_till(app, pilot) -> TillScreen:
    await settle(app, pilot)
    await pilot.press("f11")
    await settle(app, pilot)
    assert isinstance(app.screen, TillScreen)
    return app.screen


async def type_into(app, pilot, *values: str) -> None:
    """Fill a PromptScreen's fields one by one, Enter after each (the last Enter answers it)."""
    for value in values:
        await pilot.press(*value, "enter") if value else await pilot.press("enter")
        await settle(app, pilot)


async def test_a_day_at_the_till_screen_closed_half_a_unit_short(shop, make_app, till_ctx):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_till(app, pilot)
        assert "no session open" in str(screen.query_one("#till-status").content)
        await pilot.press("f7")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptScreen)
        await type_into(app, pilot, "150.00", "")
        assert till_session.current(till_ctx).float_amount == 15000
        await pilot.press("f9")
        await settle(app, pilot)
        await type_into(app, pilot, "5.00", "window cleaner")
        assert CashMovement.get().reason == "window cleaner"
        assert "Expected cash" in screen.report_text and "145.00" in screen.report_text  # the X report, live
        await pilot.press("ctrl+k")
        await settle(app, pilot)
        await type_into(app, pilot, "144.50", "")
        assert isinstance(app.screen, ConfirmScreen)
        await press_alone(app, pilot, "y")
        await settle(app, pilot)
        assert app.screen is screen and screen.showing == "Z"
        assert TillSessionClose.get().over_short == -50
        assert "Z report 1 below" in str(screen.query_one("#till-status").content)
        assert any("SHORT" in line and "-0.50" in line for line in screen_lines(app))


async def test_a_scan_into_the_close_confirmation_is_refused_and_the_session_stays_open(shop, make_app, till_ctx):
    till_session.open(till_ctx, 1000)
    app = make_app()
    bells: list[int] = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=SIZE) as pilot:
        await open_till(app, pilot)
        await pilot.press("ctrl+k")
        await settle(app, pilot)
        await type_into(app, pilot, "10.00", "")
        assert isinstance(app.screen, ConfirmScreen)
        scan_burst(app, SCAN_WITH_ANSWERS)
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen), "the scan's y or Enter answered the question"
        assert bells and refusals(app)
        assert TillSessionClose.select().count() == 0


async def test_a_scan_into_the_float_dialog_is_refused_and_taken_back_out(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_till(app, pilot)
        await pilot.press("f7")
        await settle(app, pilot)
        dialog, field = app.screen, app.focused
        scan_burst(app, SCAN)
        await settle(app, pilot)
        assert app.screen is dialog and field.value == ""
        assert refusals(app) and TillSession.select().count() == 0


async def test_no_sale_and_cash_in_are_recorded_with_their_reason(shop, make_app, till_ctx):
    till_session.open(till_ctx, 0)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_till(app, pilot)
        await pilot.press("ctrl+n")
        await settle(app, pilot)
        await type_into(app, pilot, "change for the bus")
        await pilot.press("f8")
        await settle(app, pilot)
        await type_into(app, pilot, "20.00", "")  # no reason: refused, nothing recorded
        assert [(m.kind, m.reason) for m in CashMovement.select().order_by(CashMovement.id)] == [
            ("no_sale", "change for the bus")]
        assert any("needs a reason" in n.message for n in app._notifications)


async def test_paying_with_no_session_asks_to_open_one_and_the_sale_is_kept(shop, make_app, till_ctx):
    till_session.open(replace(till_ctx, terminal="till-2"), 0)  # the shop keeps sessions; none open here
    sales_before = Sale.select().count()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f2")
        await settle(app, pilot)
        app.deliver_scan(MILK)
        await settle(app, pilot)
        await pilot.press("f8")
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceScreen)
        scan_burst(app, "so-5449")  # s: sell without, o: open — a scan answers neither
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceScreen) and refusals(app)
        await pilot.press("escape")
        await settle(app, pilot)
        assert len(till.current_sale(till_ctx).lines) == 1  # the sale is still open, untouched
        assert Sale.select().count() == sales_before
        await pilot.press("f8")
        await settle(app, pilot)
        await press_alone(app, pilot, "o")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptScreen)
        await type_into(app, pilot, "100.00", "")
        await press_alone(app, pilot, "enter")  # the card payment dialog, on the rest: Enter charges it
        await settle(app, pilot)
        session = till_session.current(till_ctx)
        sale = _last_sale()
        assert Sale.select().count() == sales_before + 1
        assert session is not None and sale.till_session == session.id and sale.payment == "card"


async def test_no_question_in_a_shop_that_never_opened_a_session(shop, make_app):
    sales_before = Sale.select().count()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f2")
        await settle(app, pilot)
        app.deliver_scan(MILK)
        await settle(app, pilot)
        await press_alone(app, pilot, "f8", "enter")
        await settle(app, pilot)
        assert Sale.select().count() == sales_before + 1 and _last_sale().till_session is None


async def test_reprint_from_the_sell_screen_shows_the_receipt_marked_copy(shop, make_app, till_ctx):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f2")
        await settle(app, pilot)
        app.deliver_scan(MILK)
        await settle(app, pilot)
        await press_alone(app, pilot, "f8", "enter")
        await settle(app, pilot)
        await pilot.press("ctrl+g")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptScreen) and app.focused.value == str(_last_sale().id)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ReceiptScreen)
        assert app.screen.text.count("*** COPY ***") == 2


async def test_a_session_left_open_from_a_previous_day_is_said_at_start(shop, make_app, till_ctx):
    from shopkeeper.services.context import terminal_id

    TillSession.insert(terminal=terminal_id(till_ctx), number=1, opened_at="2026-01-05T08:00:00.000000Z",
                       float_amount=0).execute()  # opened on a day gone by, never closed
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert any("till session 1 at till-1 is still open from 2026-01-05 08:00" in n.message
                   for n in app._notifications)
        await pilot.press("f11")
        await settle(app, pilot)
        assert "LEFT OPEN since 2026-01-05 08:00" in str(app.screen.query_one("#till-status").content)


async def test_selling_without_a_session_when_asked_completes_the_sale_naming_none(shop, make_app, till_ctx):
    till_session.open(replace(till_ctx, terminal="till-2"), 0)
    sales_before = Sale.select().count()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f2")
        await settle(app, pilot)
        app.deliver_scan(MILK)
        await settle(app, pilot)
        await pilot.press("f8")
        await settle(app, pilot)
        await press_alone(app, pilot, "s", "enter")  # sell without; then Enter charges the rest to the card
        await settle(app, pilot)
        assert Sale.select().count() == sales_before + 1 and _last_sale().till_session is None
        app.deliver_scan(MILK)
        await settle(app, pilot)
        await pilot.press("f8")  # the next sale asks again
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceScreen)


async def test_the_close_count_is_blind_expected_and_variance_only_once_the_count_is_in(shop, make_app, till_ctx):
    till_session.open(till_ctx, 15000)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_till(app, pilot)
        assert "Expected cash" in screen.report_text  # nobody has a PIN: the X report is everyone's
        await pilot.press("ctrl+k")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptScreen)
        shown = str(screen.query_one("#till-report").content)  # behind the dialog
        assert "Expected" not in shown and "150.00" not in shown  # no number to aim at while counting
        await type_into(app, pilot, "149.00", "")
        assert "Expected" not in str(screen.query_one("#till-report").content)  # the confirmation: still blind
        await press_alone(app, pilot, "y")
        await settle(app, pilot)
        assert screen.showing == "Z" and "= Expected cash" in screen.report_text and "SHORT" in screen.report_text


async def test_a_cancelled_count_brings_the_x_report_back(shop, make_app, till_ctx):
    till_session.open(till_ctx, 15000)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_till(app, pilot)
        await pilot.press("ctrl+k")
        await settle(app, pilot)
        await press_alone(app, pilot, "escape")
        await settle(app, pilot)
        assert screen.showing == "X" and "Expected cash" in screen.report_text


async def test_the_z_report_chain_head_is_one_line_on_the_80_column_screen(shop, make_app, till_ctx):
    till_session.open(till_ctx, 15000)
    head = till_session.close(till_ctx, 15000).chain_head
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_till(app, pilot)
        await pilot.press("ctrl+r", "1", "enter")
        await settle(app, pilot)
        assert screen.showing == "Z"
        await pilot.press("end")
        screen.query_one("#till-report-box").scroll_end(animate=False)
        await settle(app, pilot)
        assert any(head in line for line in screen_lines(app))


async def test_sell_without_a_session_covers_a_cash_part_payment_and_the_rest_of_that_sale(shop, make_app, till_ctx):
    till_session.open(replace(till_ctx, terminal="till-2"), 0)  # the shop keeps sessions; none at this till
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f2")
        await settle(app, pilot)
        app.deliver_scan(MILK)
        app.deliver_scan(MILK)
        await settle(app, pilot)
        await pilot.press("f7")
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceScreen)
        await press_alone(app, pilot, "s")  # sell without a session
        await settle(app, pilot)
        await pilot.press("1", "enter")  # 1.00 cash of 2.58: a part payment
        await settle(app, pilot)
        assert till.current_sale(till_ctx).payments == [("cash", 100)]
        await press_alone(app, pilot, "escape", "f7")  # back to the sale, then pay the rest
        await settle(app, pilot)
        assert not isinstance(app.screen, ChoiceScreen)  # one question for the sale: already answered
        await press_alone(app, pilot, "enter")
        await settle(app, pilot)
        sale = _last_sale()
        assert sale.total == 258 and sale.till_session is None


async def test_a_part_payment_asks_about_the_session_like_paying_in_full(shop, make_app, till_ctx):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f2")
        await settle(app, pilot)
        app.deliver_scan(MILK)
        await settle(app, pilot)
        await pilot.press("f7")  # no session was ever opened: no question, the dialog
        await settle(app, pilot)
        till_session.open(replace(till_ctx, terminal="till-2"), 0)  # meanwhile the shop starts keeping sessions
        await pilot.press("1", "enter")  # a cash part payment: asked about like a full one, not taken silently
        await settle(app, pilot)
        assert till.current_sale(till_ctx).payments == []
        assert any("no till session is open" in n.message for n in app._notifications)
        await press_alone(app, pilot, "escape", "f7")
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceScreen)
