"""Once a part payment is taken on the open sale, taking goods off it needs ``remove_line_after_payment``: a
cashier alone is refused, a supervisor's PIN approves, the audit log names both, and the sale never comes to less
than what has been paid."""

import json

import pytest

from shopkeeper.errors import InvalidInput
from shopkeeper.models import AuditEvent, OpenSalePayment, Payment
from shopkeeper.services import permissions, stock, till
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.tenders import Tender
from tests.staff_helpers import PINS, add_staff, as_


@pytest.fixture
def cam(db):
    save_product(ProductData(sku="MILK", name="Milk", price=129, tax_rate=0))
    save_product(ProductData(sku="BREAD", name="Bread", price=250, tax_rate=0))
    stock.receive(as_(""), "MILK", 20_000, 80)
    stock.receive(as_(""), "BREAD", 20_000, 100)
    add_staff()
    return as_("Cam")


def _events(kind: str) -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.kind == kind).order_by(AuditEvent.id))


def _ring_up(cam) -> till.Draft:
    till.add_product(cam, "MILK", 2_000)
    return till.add_product(cam, "BREAD", 1_000)  # 2.58 + 2.50 = 5.08


def test_before_payment_a_cashier_removes_a_line_alone(cam):
    draft = _ring_up(cam)
    assert not draft.payment_started
    till.remove_line(cam, draft.lines[1].id)
    (removed,) = _events("line_removed")
    assert removed.supervisor is None


def test_a_part_payment_is_kept_on_the_open_sale(cam):
    _ring_up(cam)
    draft = till.take_payment(cam, Tender("card", 300))
    assert draft.payments == [("card", 300)] and draft.payment_started
    assert (draft.total, draft.paid, draft.due) == (508, 300, 208)
    assert till.current_sale(cam).payments == [("card", 300)]  # a new session at the till sees it


def test_a_part_payment_must_leave_something_due(cam):
    _ring_up(cam)
    with pytest.raises(InvalidInput, match="complete the sale"):
        till.take_payment(cam, Tender("card", 508))
    with pytest.raises(InvalidInput, match="more than zero"):
        till.take_payment(cam, Tender("cash", 0))
    assert not OpenSalePayment.select().exists()


def test_after_payment_started_a_cashier_cannot_remove_a_line_alone(cam):
    draft = _ring_up(cam)
    till.take_payment(cam, Tender("card", 200))
    with pytest.raises(permissions.PermissionDenied) as denied:
        till.remove_line(cam, draft.lines[1].id)
    assert denied.value.permission == permissions.REMOVE_LINE_AFTER_PAYMENT
    assert len(till.current_sale(cam).lines) == 2
    assert not _events("line_removed")


def test_after_payment_started_a_supervisor_approves_the_removal_and_both_names_are_recorded(cam):
    draft = _ring_up(cam)
    till.take_payment(cam, Tender("card", 200))
    after = till.remove_line(cam.approved_by("Sue", PINS["Sue"]), draft.lines[1].id)
    assert [line.description for line in after.lines] == ["Milk"]
    (removed,) = _events("line_removed")
    detail = json.loads(removed.detail)
    assert (detail["description"], detail["quantity"], detail["paid"]) == ("Bread", 1_000, 200)
    assert (removed.staff.name, removed.supervisor.name) == ("Cam", "Sue")
    (override,) = _events("override")
    assert json.loads(override.detail)["permission"] == permissions.REMOVE_LINE_AFTER_PAYMENT
    assert (override.staff.name, override.supervisor.name) == ("Cam", "Sue")


def test_after_payment_started_lowering_a_quantity_needs_the_permission_and_raising_it_does_not(cam):
    draft = _ring_up(cam)
    milk = draft.lines[0].id
    till.take_payment(cam, Tender("card", 200))
    with pytest.raises(permissions.PermissionDenied):
        till.set_quantity(cam, milk, 1_000)
    with pytest.raises(permissions.PermissionDenied):
        till.set_quantity(cam, milk, 0)
    assert till.set_quantity(cam, milk, 3_000).line(milk).quantity == 3_000
    till.set_quantity(as_("Sue"), milk, 1_000)  # a supervisor's own role may
    (removed,) = _events("line_removed")
    detail = json.loads(removed.detail)
    assert (detail["quantity"], detail["removed"], detail["left"]) == (3_000, 2_000, 1_000)
    assert removed.staff.name == "Sue" and removed.supervisor is None


def test_no_change_may_bring_the_sale_below_what_was_paid(cam):
    draft = _ring_up(cam)
    till.take_payment(cam, Tender("card", 400))
    with pytest.raises(InvalidInput, match="already been paid"):
        till.remove_line(as_("Sue"), draft.lines[1].id)
    with pytest.raises(InvalidInput, match="already been paid"):
        till.set_sale_discount(as_("Sue"), rate=5000)
    assert till.current_sale(cam).total == 508
    assert not _events("line_removed") and not _events("discount")


def test_completing_pays_with_the_part_payments_first(cam):
    _ring_up(cam)
    till.take_payment(cam, Tender("card", 300))
    till.take_payment(cam, Tender("cash", 100))
    result = till.complete(cam, "cash", 200)
    assert [(p.method, p.amount) for p in result.payments] == [("card", 300), ("cash", 100), ("cash", 108)]
    assert result.change == 92
    assert [(p.method, p.amount) for p in Payment.select().where(Payment.sale == result.sale_id)
            .order_by(Payment.id)] == [("card", 300), ("cash", 100), ("cash", 108)]
    assert not OpenSalePayment.select().exists()
    assert till.current_sale(cam).payments == []


def test_a_refund_is_paid_back_in_one_go(cam):
    till.start_refund(as_("Sue"), reason="broken")
    till.add_product(as_("Sue"), "MILK", 1_000)
    with pytest.raises(InvalidInput, match="one go"):
        till.take_payment(as_("Sue"), Tender("card", 50))


def test_voiding_a_part_paid_sale_records_the_payments_to_give_back(cam):
    _ring_up(cam)
    till.take_payment(cam, Tender("card", 300))
    till.void(as_("Sue"))
    (voided,) = _events("sale_voided")
    assert json.loads(voided.detail)["payments"] == [{"amount": 300, "method": "card"}]
    assert not OpenSalePayment.select().exists()


def test_a_removal_that_would_leave_less_than_paid_is_refused_before_a_supervisor_is_asked(cam):
    draft = _ring_up(cam)
    till.take_payment(cam, Tender("card", 400))
    with pytest.raises(InvalidInput, match="already been paid"):  # not PermissionDenied: no PIN to ask for
        till.remove_line(cam, draft.lines[1].id)
    with pytest.raises(InvalidInput, match="already been paid"):
        till.set_quantity(cam, draft.lines[1].id, 500)
    assert [line.quantity for line in till.current_sale(cam).lines] == [2_000, 1_000]


def test_a_price_or_discount_that_would_leave_less_than_paid_is_refused_before_a_supervisor_is_asked(cam):
    draft = _ring_up(cam)
    till.take_payment(cam, Tender("card", 400))
    with pytest.raises(InvalidInput, match="already been paid"):  # not PermissionDenied: no PIN to ask for
        till.set_price(cam, draft.lines[1].id, 10)
    with pytest.raises(InvalidInput, match="already been paid"):
        till.set_line_discount(cam, draft.lines[1].id, rate=9_000)
    with pytest.raises(InvalidInput, match="already been paid"):
        till.set_sale_discount(cam, rate=9_000)
    after = till.current_sale(cam)
    assert [(line.unit_price, line.discount) for line in after.lines] == [(129, 0), (250, 0)]
    assert after.total == 508
