"""Till sessions and cash-up: open with a float, sell, refund, pay out, close with a count; the Z report's figures
and its immutability."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest
from peewee import IntegrityError

from shopkeeper.errors import InvalidInput, NotFound
from shopkeeper.models import CashMovement, Sale, TillSession, TillSessionClose, database
from shopkeeper.services import audit_log, till, till_session
from shopkeeper.services.context import terminal_id

MILK, COFFEE, WATER = "4006381333931", "8711000530085", "5449000000996"  # 1.29, 11.50, 0.89


def _sell(ctx, *codes, payment="cash", tendered=None):
    for code in codes:
        till.add_scan(ctx, code)
    return till.complete(ctx, payment, tendered)


def test_a_day_closed_half_a_unit_short_says_so_on_the_z_report(demo_db, ctx):
    session = till_session.open(ctx, 15000)
    assert (session.number, session.float_amount) == (1, 15000)
    cash = _sell(ctx, COFFEE, MILK, tendered=2000)  # 12.79 cash, change 7.21 (netted in the payment)
    card = _sell(ctx, WATER, payment="card")  # 0.89
    till.start_refund(ctx, cash.sale_id)
    draft = till.current_sale(ctx)
    till.remove_line(ctx, next(line.id for line in draft.lines if line.description.lower().startswith("coffee")
                               or line.unit_price == 1150))
    refund = till.complete(ctx, "cash")  # the milk back: 1.29 in cash
    till_session.cash_out(ctx, 500, "window cleaner")
    till_session.cash_in(ctx, 1000, "change from the safe")
    till_session.no_sale(ctx, "customer wanted change")

    x = till_session.x_report(ctx)
    expected = 15000 + 1279 - 129 + 1000 - 500
    assert x.expected_cash == expected and x.counted_cash is None
    assert TillSessionClose.select().count() == 0  # an X report writes nothing

    z = till_session.close(ctx, expected - 50)
    assert (z.expected_cash, z.counted_cash, z.over_short) == (expected, expected - 50, -50)
    assert (z.cash_sales, z.cash_refunds, z.cash_in, z.cash_out, z.no_sales) == (1279, 129, 1000, 500, 1)
    assert z.sales_by_method == {"cash": 1279, "card": 89}
    assert z.refunds_by_method == {"cash": 129}
    assert (z.sales, z.refunds, z.sales_total, z.refunds_total) == (2, 1, 1368, 129)
    assert (z.first_receipt, z.last_receipt) == (cash.sale_id, refund.sale_id)
    assert card.sale_id in range(z.first_receipt, z.last_receipt + 1)
    assert sum(tax for _, tax in z.tax_by_rate.values()) == sum(
        s.tax for s in Sale.select().where(Sale.till_session == session.id))
    assert "SHORT" in z.text and "-0.50" in z.text

    stored = till_session.z_report(ctx, 1)
    assert stored["over_short"] == -50 and stored["text"] == z.text  # reprinted exactly as printed
    row = TillSessionClose.get()
    assert (row.expected_cash, row.counted_cash, row.over_short) == (expected, expected - 50, -50)
    assert till_session.current(ctx) is None


def test_sales_rung_up_during_a_session_name_it_and_others_do_not(demo_db, ctx):
    before = _sell(ctx, WATER)
    session = till_session.open(ctx, 0)
    during = _sell(ctx, WATER)
    till_session.close(ctx, 89)
    after = _sell(ctx, WATER)
    assert [Sale.get_by_id(s.sale_id).till_session for s in (before, during, after)] == [None, session.id, None]


def test_a_second_open_session_at_one_till_is_refused(demo_db, ctx):
    till_session.open(ctx, 10000)
    with pytest.raises(InvalidInput) as exc:
        till_session.open(ctx, 10000)
    assert exc.value.reason == "already open"
    other = replace(ctx, terminal="till-2")
    assert till_session.open(other, 5000).number == 1  # numbered per till


def test_session_numbers_count_per_till(demo_db, ctx):
    for expected in (1, 2, 3):
        assert till_session.open(ctx, 0).number == expected
        till_session.close(ctx, 0)


def test_cash_in_and_out_need_a_reason_an_amount_and_an_open_session(demo_db, ctx):
    with pytest.raises(InvalidInput) as exc:
        till_session.cash_out(ctx, 500, "petty cash")
    assert exc.value.reason == "not open"
    till_session.open(ctx, 10000)
    with pytest.raises(InvalidInput) as exc:
        till_session.cash_out(ctx, 500, "  ")
    assert exc.value.field == "reason"
    with pytest.raises(InvalidInput) as exc:
        till_session.cash_in(ctx, 0, "top up")
    assert exc.value.field == "amount"
    assert CashMovement.select().count() == 0
    till_session.no_sale(ctx)  # the drawer opening is recorded, with or without a reason
    assert CashMovement.get().kind == "no_sale"


def test_a_float_counted_by_denomination_must_add_up(demo_db, ctx):
    with pytest.raises(InvalidInput) as exc:
        till_session.open(ctx, 15000, {2000: 3})
    assert exc.value.field == "float"
    session = till_session.open(ctx, None, {2000: 3, 500: 2})
    assert (session.float_amount, session.float_detail) == (7000, {2000: 3, 500: 2})
    z = till_session.close(ctx, None, {5000: 1, 1000: 2})
    assert (z.counted_cash, z.counted_detail, z.over_short) == (7000, {5000: 1, 1000: 2}, 0)


def test_a_closed_session_and_its_z_report_never_change(demo_db, ctx):
    till_session.open(ctx, 1000)
    till_session.close(ctx, 1000)
    for query in (TillSessionClose.update(counted_cash=0), TillSession.update(float_amount=0),
                  TillSessionClose.delete()):
        with pytest.raises(IntegrityError), database.atomic():
            query.execute()
    with pytest.raises(InvalidInput):
        till_session.close(ctx, 1000)  # nothing open any more
    with pytest.raises(InvalidInput):
        till_session.cash_in(ctx, 100, "late")


def test_voids_are_counted_from_the_audit_log_at_this_till_within_the_session(demo_db, ctx):
    audit_log.record(ctx, "sale_voided", subject="open_sale:1")  # before the session: not counted
    till_session.open(ctx, 0)
    audit_log.record(ctx, "sale_voided", subject="open_sale:2")
    audit_log.record(replace(ctx, terminal="till-2"), "sale_voided", subject="open_sale:3")  # another till
    assert till_session.x_report(ctx).voids == 1


def test_discounts_given_are_on_the_report(demo_db, ctx):
    till_session.open(ctx, 0)
    till.add_scan(ctx, COFFEE)
    till.set_sale_discount(ctx, 150)
    till.complete(ctx, "card")
    assert till_session.x_report(ctx).discounts == 150


def test_z_report_of_an_unknown_or_open_session_is_a_clear_error(demo_db, ctx):
    with pytest.raises(NotFound):
        till_session.z_report(ctx, 7)
    till_session.open(ctx, 0)
    with pytest.raises(InvalidInput) as exc:
        till_session.z_report(ctx, 1)
    assert exc.value.reason == "still open"


def test_a_session_left_open_from_a_previous_day_is_found(demo_db, ctx):
    session = till_session.open(ctx, 0)
    opened = dt.datetime.fromisoformat(session.opened_at.replace("Z", "+00:00")).astimezone().date()
    assert till_session.left_open_before(ctx, today=opened) is None
    assert till_session.left_open_before(ctx, today=opened + dt.timedelta(days=1)).id == session.id


def test_the_stored_report_is_json_with_exact_integers(demo_db, ctx):
    till_session.open(ctx, 12345)
    till_session.close(ctx, 12340)
    report = json.loads(TillSessionClose.get().report)
    assert (report["float"], report["counted_cash"], report["over_short"]) == (12345, 12340, -5)
    assert TillSession.get().terminal_id == terminal_id(ctx)


def test_cash_paid_on_an_unfinished_sale_is_held_and_the_drawer_is_not_closed_over_it(demo_db, ctx):
    """A part payment in cash is in the drawer before its sale is: the X report says so, and the day is not closed
    while it belongs to no sale yet (counted as OVER today, then in the next session's expected cash again)."""
    from shopkeeper.services.tenders import Tender

    till_session.open(ctx, 10000)
    till.add_scan(ctx, COFFEE)
    till.take_payment(ctx, Tender("cash", 500))
    x = till_session.x_report(ctx)
    assert (x.expected_cash, x.held_cash) == (10000, 500)
    assert "Cash held on open sales" in x.text
    with pytest.raises(InvalidInput, match="cash 5.00 paid on an unfinished sale") as refused:
        till_session.close(ctx, 10500)
    assert refused.value.field == "session"
    number = till.park(ctx)  # parked here: still this drawer's cash
    with pytest.raises(InvalidInput, match="unfinished sale"):
        till_session.close(ctx, 10500)
    till.resume(ctx, number)
    till.complete(ctx, "cash")  # the rest, 6.50
    z = till_session.close(ctx, 11150)
    assert (z.expected_cash, z.over_short, z.held_cash) == (11150, 0, 0)


def test_a_parked_sale_holding_cash_is_resumed_only_at_the_till_whose_drawer_has_it(demo_db, ctx):
    from shopkeeper.services.tenders import Tender

    till.add_scan(ctx, COFFEE)
    till.take_payment(ctx, Tender("cash", 500))
    number = till.park(ctx)
    other = replace(ctx, terminal="till-2")
    with pytest.raises(InvalidInput, match=f"cash 5.00 paid on it is in the drawer of till {ctx.terminal}"):
        till.resume(other, number)
    assert till.resume(ctx, number).payments == [("cash", 500)]
    assert till.void(ctx) == [("cash", 500)]  # given back
    till.add_scan(ctx, MILK)
    till.take_payment(ctx, Tender("card", 100))  # a card payment is in no drawer: the sale goes to any till
    assert till.resume(other, till.park(ctx)).payments == [("card", 100)]


def test_a_cashier_closing_over_held_cash_is_told_before_a_supervisor_is_asked(demo_db, ctx):
    from shopkeeper.services.tenders import Tender
    from tests.staff_helpers import add_staff

    till_session.open(ctx, 10000)
    till.add_scan(ctx, COFFEE)
    till.take_payment(ctx, Tender("cash", 500))
    add_staff()
    with pytest.raises(InvalidInput, match="unfinished sale"):  # not PermissionDenied: no PIN to ask for
        till_session.close(replace(ctx, staff="Cam"), 10500)


def test_the_drawer_is_counted_blind_a_cashier_x_report_has_no_cash_figures_a_supervisor_one_has(demo_db, ctx):
    from tests.staff_helpers import add_staff, as_

    add_staff()
    cam, sue = as_("Cam"), as_("Sue")
    till_session.open(sue, 15000)
    _sell(cam, COFFEE, tendered=2000)  # 11.50 cash
    blind = till_session.x_report(cam)
    assert blind.blind and blind.sales == 1
    for figure in ("Expected", "Float", "150.00", "161.50", "11.50"):
        assert figure not in blind.text
    assert "counted blind" in blind.text
    assert "expected_cash" not in blind.as_json() and "float" not in blind.as_json()
    full = till_session.x_report(sue)
    assert not full.blind and full.expected_cash == 16150 and "= Expected cash" in full.text
    z = till_session.close(cam.approved_by("Sue", "2222"), 16100)  # the count, then expected and the variance
    assert (z.expected_cash, z.over_short) == (16150, -50) and "SHORT" in z.text


def test_the_z_report_prints_the_chain_head_on_one_line_and_every_other_line_fits_the_paper(demo_db, ctx):
    till_session.open(ctx, 15000)
    _sell(ctx, COFFEE, tendered=2000)
    z = till_session.close(ctx, 16150)
    lines = z.text.splitlines()
    assert z.chain_head and z.chain_head in lines  # whole, on a line of its own: typed back as it stands
    assert lines[lines.index(z.chain_head) - 1] == "shopkeeper check --against:"
    assert all(len(line) <= till_session.WIDTH for line in lines if line != z.chain_head)
