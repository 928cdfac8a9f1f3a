"""PINs at the till: signing in, locking (F12 and idle) and unlocking, a supervisor's approval asked right where an
act is refused, and a scanner's burst into a PIN field refused, never tried as a PIN."""

from __future__ import annotations

import itertools
import types

import pytest

from shopkeeper.models import AuditEvent, Sale
from shopkeeper.services import till
from shopkeeper.tui.screens.sell import SellScreen
from shopkeeper.tui.screens.sign_in import SignInScreen, SupervisorScreen
from tests.staff_helpers import PINS, add_staff
from tests.tui.conftest import press_alone, scan_burst, settle

SIZE = (80, 24)


def typing_like_a_person(monkeypatch) -> None:
    """The key gate's clock moves half a second between keys: what the test types is a person typing, never a
    scanner's burst (which the gate would refuse)."""
    clock = itertools.count(step=0.5)
    monkeypatch.setattr("shopkeeper.tui.keygate.time", types.SimpleNamespace(monotonic=lambda: next(clock)))


async def sign_in(app, pilot, pin: str) -> None:
    await settle(app, pilot)
    assert isinstance(app.screen, SignInScreen)
    await pilot.press(*pin, "enter")
    await settle(app, pilot)


async def test_a_cashier_refund_asks_a_supervisor_pin_right_there_and_records_both_names(
        shop, make_app, till_ctx, monkeypatch):
    typing_like_a_person(monkeypatch)
    add_staff()
    sale_id = Sale.select(Sale.id).where(Sale.kind == "sale").order_by(Sale.id).scalar()
    app = make_app(till_ctx.as_staff("Cam"))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await sign_in(app, pilot, PINS["Cam"])  # PINs are set: the named cashier proves it first
        assert app.ctx.staff == "Cam"
        await pilot.press("f2")
        await settle(app, pilot)
        till.start_refund(app.ctx, sale_id)
        app.screen.refresh_data()
        await press_alone(app, pilot, "f8", "enter")  # pay the refund back by card: a cashier may not alone
        await settle(app, pilot)
        assert isinstance(app.screen, SupervisorScreen)
        intro = str(app.screen.query_one("#pin-intro").content)
        assert "\\n" not in intro and "needed\nA supervisor who may give a refund" in intro  # two lines, no "\n"
        await pilot.press("escape")  # nobody to approve: the refund waits, the till carries on
        await settle(app, pilot)
        assert isinstance(app.screen, SellScreen)
        assert till.current_sale(app.ctx).mode == "refund"
        await press_alone(app, pilot, "f8", "enter")
        await settle(app, pilot)
        await pilot.press(*"sue", "enter", *"9999", "enter")  # a wrong PIN is said in the dialog, which stays
        await settle(app, pilot)
        assert isinstance(app.screen, SupervisorScreen)
        assert "wrong PIN for Sue" in str(app.screen.query_one("#pin-error").content)
        await pilot.press(*PINS["Sue"], "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, SellScreen)
        refund = Sale.get(Sale.kind == "return")
        assert refund.original_id == sale_id and refund.staff.name == "Cam"
        override = AuditEvent.get(AuditEvent.kind == "override")
        assert (override.staff.name, override.supervisor.name) == ("Cam", "Sue")
        assert app.ctx.supervisor == "" and app.ctx.supervisor_pin == ""  # the approval was for that act only


async def test_the_till_locks_on_f12_and_when_idle_and_the_next_cashier_unlocks_with_their_pin(
        shop, make_app, till_ctx, monkeypatch):
    typing_like_a_person(monkeypatch)
    add_staff()
    app = make_app(till_ctx.as_staff("Cam"))
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(app, pilot, PINS["Cam"])
        await pilot.press("f12")
        await settle(app, pilot)
        assert isinstance(app.screen, SignInScreen)
        await pilot.press("escape")  # locked: Escape does not get past it
        await settle(app, pilot)
        assert isinstance(app.screen, SignInScreen)
        app.screen.query_one("#pin-name").value = ""
        await pilot.press(*"Zed", "enter")  # with PINs set, a name not on the list is not accepted
        await settle(app, pilot)
        assert "not on the list" in str(app.screen.query_one("#pin-error").content)
        app.screen.query_one("#pin-name").value = ""
        await pilot.press(*"su", "enter", *PINS["Sue"], "enter")  # a few letters are enough
        await settle(app, pilot)
        assert not isinstance(app.screen, SignInScreen)
        assert app.ctx.staff == "Sue"
        app.lock_if_idle(now=app.last_input + 4 * 60)  # [till] lock_after_minutes = 5: not yet
        await settle(app, pilot)
        assert not isinstance(app.screen, SignInScreen)
        app.lock_if_idle(now=app.last_input + 5 * 60)
        await settle(app, pilot)
        assert isinstance(app.screen, SignInScreen)


async def test_a_scan_into_the_pin_field_is_refused_and_never_tried_as_a_pin(shop, make_app, till_ctx):
    add_staff()
    app = make_app(till_ctx.as_staff("Cam"))
    bells: list[int] = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, SignInScreen)
        assert app.focused.id == "pin-pin"
        scan_burst(app, "5449000000996")
        await settle(app, pilot)
        assert isinstance(app.screen, SignInScreen)
        assert app.screen.query_one("#pin-pin").value == ""
        assert bells and any("5449000000996 NOT added" in n.message for n in app._notifications)
        assert not AuditEvent.select().where(AuditEvent.kind.in_(["pin_failed", "sign_in"])).exists()


async def test_the_staff_screen_adds_a_member_and_sets_their_pin_as_a_manager(shop, make_app, till_ctx,
                                                                                monkeypatch):
    from shopkeeper.models import Staff
    from shopkeeper.services import pins
    from shopkeeper.tui.screens.staff_admin import StaffAdminScreen

    typing_like_a_person(monkeypatch)
    add_staff()
    app = make_app(till_ctx.as_staff("Olga"))
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(app, pilot, PINS["Olga"])
        app.action_open("staff")
        await settle(app, pilot)
        assert isinstance(app.screen, StaffAdminScreen)
        await pilot.press("a")
        await settle(app, pilot)
        await pilot.press(*"Dee", "enter", "enter")  # role: cashier, as offered
        await settle(app, pilot)
        assert Staff.get(Staff.name == "Dee").role == "cashier"
        table = app.screen.query_one("#staff-table")
        table.move_cursor(row=[m.name for m in app.screen.members].index("Dee"))
        await pilot.press("p")
        await settle(app, pilot)
        await pilot.press(*"4567", "enter", *"4567", "enter")
        await settle(app, pilot)
        assert pins.matches("4567", Staff.get(Staff.name == "Dee").pin_hash)
        kinds = [e.kind for e in AuditEvent.select().order_by(AuditEvent.id)][-2:]
        assert kinds == ["staff_added", "pin_set"]


async def test_the_audit_log_screen_lists_newest_first_and_filters_by_kind_and_staff(shop, make_app, till_ctx):
    from textual.widgets import DataTable, Input, Select

    from shopkeeper.tui.screens.audit_log import AuditLogScreen

    add_staff()  # staff_added ×3, pin_set ×3 (the owner's first, by nobody; then by Olga)
    app = make_app(till_ctx.as_staff("Sam"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        app.pop_screen()  # the sign-in dialog: this test reads the log without signing in
        app.action_open("audit")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, AuditLogScreen)
        table = screen.query_one("#audit-table", DataTable)
        kinds = [table.get_row_at(i)[1] for i in range(table.row_count)]
        assert kinds[:3] == ["pin_set", "pin_set", "pin_set"] and kinds[-1] == "staff_added"
        screen.query_one("#audit-kind", Select).value = "staff_added"
        await settle(app, pilot)
        assert table.row_count == 3
        screen.query_one("#audit-kind", Select).value = Select.NULL
        screen.query_one("#audit-staff", Input).value = "olga"
        screen.refresh_data()
        await settle(app, pilot)
        assert {table.get_row_at(i)[2].plain for i in range(table.row_count)} == {"Olga"}
        assert table.row_count == 2  # she set Sue's and Cam's PINs


@pytest.mark.sqlite_only  # a PostgreSQL database is no file of ours
async def test_the_app_warns_when_the_database_is_readable_by_everyone(shop, make_app):
    import os

    os.chmod(shop, 0o644)
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        assert any("can be read by every user of this computer" in n.message for n in app._notifications)


async def test_after_a_part_payment_a_cashier_removing_a_line_asks_a_supervisor_and_it_is_recorded(
        shop, make_app, till_ctx, monkeypatch):
    from shopkeeper.tui.screens.payment import PaymentScreen
    from tests.tui.test_sell import COFFEE, MILK

    typing_like_a_person(monkeypatch)
    add_staff()
    app = make_app(till_ctx.as_staff("Cam"))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await sign_in(app, pilot, PINS["Cam"])
        await pilot.press("f2")
        await settle(app, pilot)
        app.deliver_scan(COFFEE)
        app.deliver_scan(MILK)
        await settle(app, pilot)
        await pilot.press("f7")
        await settle(app, pilot)
        assert isinstance(app.screen, PaymentScreen)
        assert "Esc back (taken stays on the sale)" in str(app.screen.query_one(".prompt-hint").content)
        await pilot.press("f8", *"5", "enter")  # 5.00 by card: a part payment, kept on the sale at once
        await settle(app, pilot)
        await pilot.press("escape")  # the customer wants the milk off: back to the sale, the card payment stays
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, SellScreen)
        assert till.current_sale(app.ctx).payments == [("card", 500)]
        assert "Paid so far card 5.00" in str(screen.query_one("#status").content)
        await pilot.press("ctrl+r")  # the milk (the chosen line): payment has started, so a supervisor is asked
        await settle(app, pilot)
        assert isinstance(app.screen, SupervisorScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        assert len(till.current_sale(app.ctx).lines) == 2
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        await pilot.press(*"sue", "enter", *PINS["Sue"], "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, SellScreen)
        assert [line.description for line in till.current_sale(app.ctx).lines] == ["Coffee beans 500 g"]
        removed = AuditEvent.get(AuditEvent.kind == "line_removed")
        assert (removed.staff.name, removed.supervisor.name) == ("Cam", "Sue")
        await pilot.press("f7")  # the rest, in cash: the sale is paid by the card part and this
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        sale = Sale.select().order_by(Sale.id.desc()).first()
        assert sale.payment == "split" and sale.total == 1150


async def test_a_cashier_closing_the_day_with_a_supervisor_pin_closes_it_once(shop, make_app, till_ctx, monkeypatch):
    """The close dialog's act ran again with the context it had before the approval: the supervisor was asked
    again and again and the day never closed."""
    from shopkeeper.models import TillSessionClose
    from shopkeeper.services import till_session
    from shopkeeper.tui.screens.confirm import ConfirmScreen
    from tests.tui.conftest import press_alone
    from tests.tui.test_till_screen import open_till, type_into

    typing_like_a_person(monkeypatch)
    add_staff()
    cam = till_ctx.as_staff("Cam")
    till_session.open(cam, 10_000)
    app = make_app(cam)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await sign_in(app, pilot, PINS["Cam"])
        screen = await open_till(app, pilot)
        await pilot.press("ctrl+k")
        await settle(app, pilot)
        await type_into(app, pilot, "100.00", "")
        assert isinstance(app.screen, ConfirmScreen)
        await press_alone(app, pilot, "y")
        await settle(app, pilot)
        assert isinstance(app.screen, SupervisorScreen)
        await pilot.press(*"sue", "enter", *PINS["Sue"], "enter")
        await settle(app, pilot)
        assert app.screen is screen and screen.showing == "Z"
        assert TillSessionClose.select().count() == 1
        override = AuditEvent.get(AuditEvent.kind == "override")
        assert (override.staff.name, override.supervisor.name) == ("Cam", "Sue")


async def test_a_no_sale_approved_by_a_supervisor_opens_the_drawer(shop, make_app, till_ctx, monkeypatch):
    """The approved no-sale was recorded, but the drawer was kicked only on the path without an approval."""
    from shopkeeper.models import CashMovement
    from shopkeeper.services import till_session
    from tests.tui.test_till_screen import open_till, type_into

    typing_like_a_person(monkeypatch)
    add_staff()
    cam = till_ctx.as_staff("Cam")
    till_session.open(cam, 10_000)
    app = make_app(cam)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await sign_in(app, pilot, PINS["Cam"])
        screen = await open_till(app, pilot)
        kicks: list[int] = []
        monkeypatch.setattr(screen, "_kick", lambda: kicks.append(1))
        await pilot.press("ctrl+n")
        await settle(app, pilot)
        await type_into(app, pilot, "change for the bus")
        assert isinstance(app.screen, SupervisorScreen) and not kicks
        await pilot.press(*"sue", "enter", *PINS["Sue"], "enter")
        await settle(app, pilot)
        assert CashMovement.select().where(CashMovement.kind == "no_sale").count() == 1
        assert kicks == [1]


async def test_a_cashier_drafting_an_order_gets_the_supervisor_prompt_not_a_dead_end(
        shop, make_app, till_ctx, monkeypatch):
    """The ordering screens run their acts in a thread worker: a refusal was only an error message there."""
    from shopkeeper.models import PurchaseOrder
    from shopkeeper.tui.screens.orders import OrderScreen, SupplierPicker

    typing_like_a_person(monkeypatch)
    add_staff()
    app = make_app(till_ctx.as_staff("Cam"))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await sign_in(app, pilot, PINS["Cam"])
        app.action_open("orders")
        await settle(app, pilot)
        await pilot.press("f9")
        await settle(app, pilot)
        assert isinstance(app.screen, SupplierPicker)
        app.screen.query_one("#picker-filter").value = "hill"
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, SupervisorScreen)
        assert not PurchaseOrder.select().exists()
        await pilot.press(*"sue", "enter", *PINS["Sue"], "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, OrderScreen)
        order = PurchaseOrder.get()
        override = AuditEvent.get(AuditEvent.kind == "override")
        assert (override.staff.name, override.supervisor.name) == ("Cam", "Sue")
        assert order.id and app.ctx.supervisor == ""


async def test_a_cashier_sells_a_line_at_another_price_with_a_supervisor_pin(shop, make_app, till_ctx, monkeypatch):
    from tests.tui.test_sell import COFFEE

    typing_like_a_person(monkeypatch)
    add_staff()
    app = make_app(till_ctx.as_staff("Cam"))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await sign_in(app, pilot, PINS["Cam"])
        await pilot.press("f2")
        await settle(app, pilot)
        app.deliver_scan(COFFEE)
        await settle(app, pilot)
        await pilot.press("ctrl+s")  # the chosen line's price: 11.50 in the catalogue
        await settle(app, pilot)
        await pilot.press("ctrl+u", *"9.99", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, SupervisorScreen)
        await pilot.press(*"sue", "enter", *PINS["Sue"], "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, SellScreen)
        assert [(line.unit_price, line.description) for line in till.current_sale(app.ctx).lines] == [
            (999, "Coffee beans 500 g")]
        override = AuditEvent.get(AuditEvent.kind == "price_override")
        assert (override.staff.name, override.supervisor.name) == ("Cam", "Sue")


async def test_the_audit_log_screen_shows_the_whole_till_name(shop, make_app, till_ctx):
    from shopkeeper.tui.screens.audit_log import AuditLogScreen
    from tests.tui.conftest import screen_lines

    add_staff()
    app = make_app(till_ctx.as_staff("Sam"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.pop_screen()
        app.action_open("audit")
        await settle(app, pilot)
        assert isinstance(app.screen, AuditLogScreen)
        app.screen.refresh_data()  # read again, as every change elsewhere makes it
        await settle(app, pilot)
        rows = [line for line in screen_lines(app) if "pin_set" in line]
        assert rows and all(till_ctx.terminal in line for line in rows), rows


async def test_voiding_a_part_paid_sale_tells_the_cashier_what_to_give_back(shop, make_app, till_ctx, monkeypatch):
    """The part payments were only in the audit log: the confirm and the approved void said nothing of the money
    the customer had already paid."""
    from shopkeeper.tui.screens.confirm import ConfirmScreen
    from tests.tui.test_sell import COFFEE, MILK

    typing_like_a_person(monkeypatch)
    add_staff()
    app = make_app(till_ctx.as_staff("Cam"))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await sign_in(app, pilot, PINS["Cam"])
        await pilot.press("f2")
        await settle(app, pilot)
        app.deliver_scan(COFFEE)
        app.deliver_scan(MILK)
        await settle(app, pilot)
        await pilot.press("f7", "f8", *"5", "enter")  # 5.00 by card
        await settle(app, pilot)
        await pilot.press("f7", *"2", "enter", "escape")  # and 2.00 cash, then the customer walks away
        await settle(app, pilot)
        assert till.current_sale(app.ctx).payments == [("card", 500), ("cash", 200)]
        await pilot.press("ctrl+n")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "give back card 5.00 + cash 2.00" in app.screen.question
        await press_alone(app, pilot, "y")
        await settle(app, pilot)
        await pilot.press(*"sue", "enter", *PINS["Sue"], "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, SellScreen) and till.current_sale(app.ctx).lines == []
        assert any("voided: give back card 5.00 + cash 2.00" in n.message for n in app._notifications)


async def test_the_parked_sales_list_says_what_was_paid_on_each(shop, make_app, till_ctx, monkeypatch):
    """A parked sale with part payments looked like any other in Ctrl+O's list: nothing said money was on it."""
    from tests.tui.test_sell import COFFEE

    typing_like_a_person(monkeypatch)
    add_staff()
    app = make_app(till_ctx.as_staff("Cam"))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await sign_in(app, pilot, PINS["Cam"])
        await pilot.press("f2")
        await settle(app, pilot)
        app.deliver_scan(COFFEE)
        await settle(app, pilot)
        await pilot.press("f7", "f8", *"5", "enter", "escape")  # 5.00 by card
        await settle(app, pilot)
        await pilot.press("ctrl+y", "enter")
        await settle(app, pilot)
        await pilot.press("ctrl+o")
        await settle(app, pilot)
        (option,) = app.screen.query_one("#parked-list").options
        assert "paid card 5.00" in str(option.prompt)
