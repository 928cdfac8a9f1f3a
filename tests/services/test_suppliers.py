"""Suppliers and their product links: validation names the field, one preferred supplier per product."""

from __future__ import annotations

import pytest

from shopkeeper.errors import InvalidInput, NotFound, ShopError
from shopkeeper.models import Product, ProductSupplier
from shopkeeper.services import suppliers
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.suppliers import SupplierData


@pytest.fixture
def shop(db, ctx):
    save_product(ProductData(sku="MILK", name="Milk"))
    suppliers.create_supplier(ctx, SupplierData(name="Dairy", lead_days=2))
    suppliers.create_supplier(ctx, SupplierData(name="Cash and Carry"))
    return db


@pytest.mark.parametrize(("data", "field"), [
    (SupplierData(name="  "), "name"),
    (SupplierData(name="X", email="not-an-address"), "email"),
    (SupplierData(name="X", lead_days=-1), "lead_days"),
    (SupplierData(name="X", review_days=0), "review_days"),
    (SupplierData(name="X", min_order=-5), "min_order"),
    (SupplierData(name="X", order_days="mon,someday"), "order_days"),
    (SupplierData(name="dairy"), "name"),  # taken, ignoring case
    (SupplierData(name="Bad\x07name"), "name"),
])
def test_a_bad_supplier_is_refused_naming_the_field(shop, ctx, data, field):
    with pytest.raises(InvalidInput) as err:
        suppliers.create_supplier(ctx, data)
    assert err.value.field == field


def test_order_days_are_stored_in_week_order_without_repeats(shop, ctx):
    s = suppliers.create_supplier(ctx, SupplierData(name="Baker", order_days="Thursday, mon; thu"))
    assert s.order_days == "mon,thu"


def test_editing_changes_only_the_fields_given(shop, ctx):
    s = suppliers.edit_supplier(ctx, "dairy", SupplierData(email="orders@dairy.example", min_order=5000))
    assert (s.name, s.lead_days, s.email, s.min_order) == ("Dairy", 2, "orders@dairy.example", 5000)
    with pytest.raises(InvalidInput) as err:
        suppliers.edit_supplier(ctx, "Dairy", SupplierData(name="cash AND carry"))
    assert err.value.field == "name"


def test_an_unknown_supplier_is_not_found_with_its_field(shop, ctx):
    with pytest.raises(NotFound) as err:
        suppliers.find_supplier("Nobody")
    assert err.value.field == "supplier"


def test_deactivated_suppliers_leave_the_list_unless_asked(shop, ctx):
    suppliers.deactivate_supplier(ctx, "Dairy")
    assert [s.name for s in suppliers.list_suppliers()] == ["Cash and Carry"]
    assert [s.name for s in suppliers.list_suppliers(include_inactive=True)] == ["Cash and Carry", "Dairy"]


def test_the_first_link_is_preferred_and_setting_another_moves_the_mark(shop, ctx):
    first = suppliers.link_product(ctx, "MILK", "Dairy", item_code="D-1", pack_size=12_000, pack_cost=960)
    assert first.preferred and Product.get(Product.sku == "MILK").supplier.name == "Dairy"
    second = suppliers.link_product(ctx, "MILK", "Cash and Carry", pack_size=6_000, pack_cost=500)
    assert not second.preferred
    suppliers.link_product(ctx, "MILK", "Cash and Carry", preferred=True)
    marks = {link.supplier: link.preferred for link in suppliers.links(product="MILK")}
    assert marks == {"Dairy": False, "Cash and Carry": True}
    assert Product.get(Product.sku == "MILK").supplier.name == "Cash and Carry"
    assert ProductSupplier.select().where(ProductSupplier.preferred).count() == 1


def test_relinking_changes_only_the_values_given(shop, ctx):
    suppliers.link_product(ctx, "MILK", "Dairy", item_code="D-1", pack_size=12_000, pack_cost=960)
    link = suppliers.link_product(ctx, "MILK", "Dairy", pack_cost=1000)
    assert (link.item_code, link.pack_size, link.pack_cost) == ("D-1", 12_000, 1000)


@pytest.mark.parametrize(("kwargs", "field"), [({"pack_size": 0}, "pack_size"), ({"pack_cost": -1}, "pack_cost")])
def test_a_bad_link_is_refused_naming_the_field(shop, ctx, kwargs, field):
    with pytest.raises(InvalidInput) as err:
        suppliers.link_product(ctx, "MILK", "Dairy", **kwargs)
    assert err.value.field == field


def test_unlinking_removes_the_link_and_an_unknown_link_is_refused(shop, ctx):
    suppliers.link_product(ctx, "MILK", "Dairy")
    suppliers.unlink_product(ctx, "MILK", "Dairy")
    assert suppliers.links(product="MILK") == []
    with pytest.raises(ShopError):
        suppliers.unlink_product(ctx, "MILK", "Dairy")


def test_unit_cost_from_a_pack_rounds_half_even():
    assert suppliers.unit_cost(1000, 24_000) == 42  # 41.67
    assert suppliers.unit_cost(960, 12_000) == 80
