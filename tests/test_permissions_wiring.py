"""The acts of the till session, ordering and the books need their permissions too: a cashier alone is refused,
a supervisor's PIN approves, and the audit trail names both."""

import pytest

from shopkeeper.models import AuditEvent, CashMovement, PurchaseOrder, TillSessionClose
from shopkeeper.services import ordering, permissions, suppliers, till_session
from shopkeeper.services.catalog import ProductData, save_product
from tests.staff_helpers import PINS, add_staff, as_


def _kinds() -> list[tuple[str, str, str | None]]:
    return [(e.kind, e.staff.name if e.staff else "", e.supervisor.name if e.supervisor else None)
            for e in AuditEvent.select().where(AuditEvent.kind.in_(["no_sale", "override"])).order_by(AuditEvent.id)]


def test_a_no_sale_needs_open_drawer_and_is_in_the_audit_trail(db):
    add_staff()
    till_session.open(as_("Sue"), 10_000)
    with pytest.raises(permissions.PermissionDenied) as denied:
        till_session.no_sale(as_("Cam"), "change for the bus")
    assert denied.value.permission == permissions.OPEN_DRAWER
    assert not CashMovement.select().where(CashMovement.kind == "no_sale").exists()
    till_session.no_sale(as_("Cam").approved_by("Sue", PINS["Sue"]), "change for the bus")
    assert _kinds() == [("no_sale", "Cam", "Sue"), ("override", "Cam", "Sue")]


def test_closing_the_day_needs_close_day(db):
    add_staff()
    till_session.open(as_("Sue"), 10_000)
    with pytest.raises(permissions.PermissionDenied, match="close"):
        till_session.close(as_("Cam"), 10_000)
    assert not TillSessionClose.select().exists()
    report = till_session.close(as_("Sue"), 10_000)
    assert report.over_short == 0


def test_ordering_needs_manage_orders_and_receiving_does_not(db):
    add_staff()
    suppliers.create_supplier(as_("Olga"), suppliers.SupplierData(name="Dairy"))
    save_product(ProductData(sku="MILK", name="Milk", price=129), ctx=as_("Olga"))
    with pytest.raises(permissions.PermissionDenied) as denied:
        ordering.create_order(as_("Cam"), "Dairy")
    assert denied.value.permission == permissions.MANAGE_ORDERS
    assert not PurchaseOrder.select().exists()
    order = ordering.create_order(as_("Sue"), "Dairy")
    ordering.add_line(as_("Sue"), order.id, "MILK", quantity=6_000, unit_cost=80)
    ordering.send_order(as_("Sue"), order.id)
    receipt = ordering.receive_against(as_("Cam"), order.id, [("MILK", 6_000)])  # a delivery: stock-room work
    assert ordering.get_order(order.id).status == "received" and receipt is not None
