import json

import pytest

from shopkeeper.config import parse_config
from shopkeeper.errors import ConfigError, InvalidInput
from shopkeeper.models import AuditEvent, Sale
from shopkeeper.services import audit_trail, permissions, sales, stock, staff, till
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.roles import Access
from tests.staff_helpers import PINS, add_staff, as_


@pytest.fixture
def shop(db):
    save_product(ProductData(sku="MILK", name="Milk", price=129, tax_rate=700))
    stock.receive(as_(""), "MILK", 20_000, 80)
    sale = sales.sell(as_(""), [sales.LineInput("MILK", 2_000)])
    return sale.sale_id


def _events(kind: str) -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.kind == kind).order_by(AuditEvent.id))


def test_a_shop_without_pins_lets_anyone_do_everything(shop):
    staff.add(as_(""), "Cam", "cashier")  # staff without PINs: roles do not apply yet
    result = sales.refund(as_("Cam"), sale_id=shop)
    assert result.kind == "return"
    stock.adjust(as_("whoever"), "MILK", -1_000, "damaged")
    assert not _events("override")


def test_a_cashier_cannot_refund_without_a_supervisor_pin(shop):
    add_staff()
    with pytest.raises(permissions.PermissionDenied) as denied:
        sales.refund(as_("Cam"), sale_id=shop)
    assert denied.value.permission == permissions.REFUND
    assert "Cam (cashier) may not give a refund: a supervisor's PIN is needed" in str(denied.value)
    assert not Sale.select().where(Sale.kind == "return").exists()


def test_a_supervisor_override_is_recorded_with_both_names(shop):
    add_staff()
    result = sales.refund(as_("Cam").approved_by("Sue", PINS["Sue"]), sale_id=shop)
    (event,) = _events("override")
    assert (event.staff.name, event.supervisor.name, event.subject) == ("Cam", "Sue", f"sale:{result.sale_id}")
    assert json.loads(event.detail)["permission"] == "refund"
    assert Sale.get_by_id(result.sale_id).staff.name == "Cam"  # the cashier did it; Sue approved it
    shown = audit_trail.entries(kind="override")
    assert (shown[0].staff, shown[0].supervisor) == ("Cam", "Sue")


def test_a_wrong_supervisor_pin_refuses_the_act_and_is_recorded(shop):
    add_staff()
    with pytest.raises(staff.PinRefused, match="wrong PIN for Sue"):
        sales.refund(as_("Cam").approved_by("Sue", "9999"), sale_id=shop)
    assert not Sale.select().where(Sale.kind == "return").exists()
    (failed,) = _events("pin_failed")
    assert failed.staff.name == "Cam"


def test_a_supervisor_whose_role_lacks_the_permission_cannot_approve_it(shop):
    add_staff()
    with pytest.raises(permissions.PermissionDenied, match="Sue .supervisor. may not change prices and costs "
                                                           "either"):
        save_product(ProductData(sku="MILK", price=199), ctx=as_("Cam").approved_by("Sue", PINS["Sue"]))
    save_product(ProductData(sku="MILK", price=199), ctx=as_("Cam").approved_by("Olga", PINS["Olga"]))
    save_product(ProductData(sku="MILK", name="Whole milk"), ctx=as_("Sue"))  # a name: edit_products is enough


def test_an_unknown_or_deactivated_member_may_do_nothing_protected(shop):
    add_staff()
    with pytest.raises(permissions.PermissionDenied, match="'Eve' is not on the staff list"):
        stock.adjust(as_("Eve"), "MILK", -1_000, "damaged")
    staff.deactivate(as_("Olga"), "Sue")
    with pytest.raises(permissions.PermissionDenied, match="Sue is deactivated"):
        stock.adjust(as_("Sue"), "MILK", -1_000, "damaged")


def test_stock_adjustments_and_counts_need_their_permissions(shop):
    add_staff()
    with pytest.raises(permissions.PermissionDenied):
        stock.adjust(as_("Cam"), "MILK", -1_000, "damaged")
    with pytest.raises(permissions.PermissionDenied):
        stock.count(as_("Cam"), "MILK", 3_000)
    stock.adjust(as_("Sue"), "MILK", -1_000, "damaged")
    stock.count(as_("Sue"), "MILK", 3_000)
    session = stock.start_count(as_("Cam"))
    stock.cancel_count(session, as_("Cam"))
    (cancelled,) = _events("count_cancelled")
    assert cancelled.staff.name == "Cam" and cancelled.subject == f"count:{session.id}"


def test_a_cashier_discounts_up_to_the_role_limit_and_above_it_with_approval(shop):
    add_staff()
    cam = as_("Cam")
    line = till.add_product(cam, "MILK", 1_000).lines[0].id
    till.set_line_discount(cam, line, rate=1000)  # 10 %: the cashier's limit
    with pytest.raises(permissions.PermissionDenied) as denied:
        till.set_line_discount(cam, line, 14)  # 14 of 129: 10.9 %
    assert denied.value.permission == "discount_over_limit"
    with pytest.raises(permissions.PermissionDenied):
        till.set_sale_discount(cam, rate=1500)
    till.set_sale_discount(cam.approved_by("Sue", PINS["Sue"]), rate=1500)
    discounts = _events("discount")
    assert [json.loads(e.detail)["rate"] for e in discounts] == [1000, 1500]
    assert discounts[1].supervisor.name == "Sue"


def test_a_sale_discount_given_outside_the_till_obeys_the_role_limit_and_is_recorded(shop):
    """``shopkeeper sell --discount`` (``sales.sell``) is held to the same limit as the till's discount keys."""
    add_staff()
    cam = as_("Cam")
    sold = Sale.select().count()
    with pytest.raises(permissions.PermissionDenied) as denied:
        sales.sell(cam, [sales.LineInput("MILK", 1_000)], discount=14)  # 14 of 129: 10.9 %
    assert denied.value.permission == "discount_over_limit" and Sale.select().count() == sold
    with pytest.raises(permissions.PermissionDenied):
        sales.sell(cam, [sales.LineInput("MILK", 1_000)], discount_rate=1500)
    sales.sell(cam, [sales.LineInput("MILK", 1_000)], discount=12)  # 9.3 %: within the cashier's limit
    result = sales.sell(cam.approved_by("Sue", PINS["Sue"]), [sales.LineInput("MILK", 1_000)], discount=50)
    discounts = _events("discount")
    assert [(json.loads(e.detail)["amount"], e.subject) for e in discounts] == [
        (12, f"sale:{result.sale_id - 1}"), (50, f"sale:{result.sale_id}")]
    assert discounts[1].supervisor.name == "Sue"
    assert _events("override")[0].supervisor.name == "Sue"


def test_voiding_a_sale_needs_void_sale_and_records_its_lines(shop):
    add_staff()
    cam = as_("Cam")
    till.add_product(cam, "MILK", 3_000)
    with pytest.raises(permissions.PermissionDenied):
        till.void(cam)
    till.void(cam.approved_by("Sue", PINS["Sue"]))
    (voided,) = _events("sale_voided")
    detail = json.loads(voided.detail)
    assert [(line["description"], line["quantity"]) for line in detail["lines"]] == [("Milk", 3_000)]
    assert (voided.staff.name, voided.supervisor.name) == ("Cam", "Sue")
    till.void(cam)  # an empty sale: nothing to approve, nothing recorded
    assert len(_events("sale_voided")) == 1


def test_a_removed_line_a_price_override_and_a_one_off_item_are_recorded(shop):
    add_staff()
    cam, sue = as_("Cam"), as_("Sue")
    line = till.add_product(cam, "MILK", 1_000).lines[0].id
    till.remove_line(cam, line)
    with pytest.raises(permissions.PermissionDenied):
        till.add_product(cam, "MILK", 1_000, unit_price=99)
    till.add_product(sue, "MILK", 1_000, unit_price=99)
    till.add_one_off(cam, "Flowers", 500)  # a cashier may by default
    removed, = _events("line_removed")
    assert json.loads(removed.detail)["description"] == "Milk"
    override, = _events("price_override")
    assert json.loads(override.detail) == {"catalogue": 129, "price": 99, "quantity": 1000, "sku": "MILK"}


def test_a_line_sold_at_another_price_needs_price_override_and_is_recorded(shop):
    add_staff()
    cam = as_("Cam")
    line = till.add_product(cam, "MILK", 2_000).lines[0].id
    with pytest.raises(permissions.PermissionDenied) as denied:
        till.set_price(cam, line, 99)
    assert denied.value.permission == permissions.PRICE_OVERRIDE
    assert till.current_sale(cam).line(line).unit_price == 129
    draft = till.set_price(cam.approved_by("Sue", PINS["Sue"]), line, 99)
    assert (draft.line(line).unit_price, draft.total) == (99, 198)
    (override,) = _events("price_override")
    assert json.loads(override.detail) == {"catalogue": 129, "line": 1, "price": 99, "quantity": 2000, "sku": "MILK",
                                           "was": 129}
    assert (override.staff.name, override.supervisor.name) == ("Cam", "Sue")
    till.set_price(cam, line, 129)  # back to the catalogue's price: nothing to approve
    assert len(_events("price_override")) == 1
    with pytest.raises(InvalidInput, match="negative"):
        till.set_price(cam, line, -1)


def test_the_audit_trail_shows_product_changes_old_and_new(shop):
    save_product(ProductData(sku="MILK", price=139), ctx=as_("Olga"))
    (change,) = audit_trail.entries(kind="product_changed")
    assert (change.staff, change.detail["field"], change.detail["old"], change.detail["new"]) == (
        "Olga", "price", "129", "139")
    assert audit_trail.entries(staff="olga")[0].kind == "product_changed"


def test_roles_and_their_limits_come_from_the_config():
    config = parse_config({"roles": {"cashier": {"permissions": ["refund"], "max_discount": "5%"},
                                     "trainee": {"permissions": []}}})
    access = Access.from_config(config)
    assert access.role("cashier").permissions == {"refund"} and access.role("cashier").max_discount == 500
    assert access.role("owner").permissions == set(permissions.PERMISSIONS)  # defaults kept
    assert access.role("trainee").permissions == set()
    with pytest.raises(ConfigError, match="unknown permission 'refunds'"):
        Access.from_config(parse_config({"roles": {"cashier": {"permissions": ["refunds"]}}}))
    with pytest.raises(ConfigError, match="roles.cashier.colour: unknown key"):
        parse_config({"roles": {"cashier": {"colour": "red"}}})


def test_an_approval_given_around_an_act_counts_as_the_contexts_own(shop):
    add_staff()
    cam = as_("Cam")
    with pytest.raises(staff.PinRefused):
        with permissions.approving("Sue", "0000"):  # the PIN is checked as ever
            sales.refund(cam, sale_id=shop)
    with permissions.approving("Sue", PINS["Sue"]):
        sales.refund(cam, sale_id=shop)
    with pytest.raises(permissions.PermissionDenied):  # only within the block
        stock.adjust(cam, "MILK", -1_000, "damaged")
    (override,) = _events("override")
    assert (override.staff.name, override.supervisor.name) == ("Cam", "Sue")
