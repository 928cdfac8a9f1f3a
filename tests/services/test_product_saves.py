"""Product saves: only what changed is written, what the user saw is compared, and every change of price, tax,
cost, unit or active flag is logged (who, when, till, old → new), append-only."""

from __future__ import annotations

import peewee
import pytest

from shopkeeper.barcode_settings import BarcodeSettings, VariableMeasureLayout
from shopkeeper.errors import InvalidInput
from shopkeeper.models import Product, ProductChange
from shopkeeper.services import stock
from shopkeeper.services.audit import check_stock
from shopkeeper.services.catalog import (
    EditConflict,
    ProductData,
    find_product,
    product_barcodes,
    product_code,
    product_values,
    save_product,
)
from shopkeeper.services.context import Context


@pytest.fixture
def tea(db, ctx):
    product = save_product(ProductData(sku="TEA", name="Tea", price=300, tax_rate=7_000), ctx=ctx)
    stock.receive(ctx, product, 10_000, 100)
    return product


def _log(product_id):
    return [(c.field, c.old, c.new, c.kind, c.staff and c.staff.name, c.terminal and c.terminal.name) for c in
            ProductChange.select().where(ProductChange.product == product_id).order_by(ProductChange.id)]


def test_a_save_keeps_an_average_cost_raised_by_a_delivery_since_the_screen_loaded(tea, ctx):
    seen = product_values(tea.id)
    stock.receive(ctx, "TEA", 10_000, 200)  # another till's delivery: average 100 → 150
    saved = save_product(ProductData(sku="TEA", price=350), seen=seen, ctx=ctx)
    assert (saved.price, saved.avg_cost, saved.on_hand) == (350, 150, 20_000)
    assert check_stock()[1] == []


def test_a_field_changed_elsewhere_and_by_the_user_is_a_conflict_naming_it(tea, ctx):
    seen = product_values(tea.id)
    save_product(ProductData(sku="TEA", price=320), ctx=Context(staff="Kim", terminal="till-2"))
    with pytest.raises(EditConflict) as caught:
        save_product(ProductData(sku="TEA", price=350, name="Green tea"), seen=seen, ctx=ctx)
    assert (caught.value.field, caught.value.theirs) == ("price", {"price": 320})
    assert (Product.get_by_id(tea.id).price, Product.get_by_id(tea.id).name) == (320, "Tea")  # nothing saved
    # keep mine: save again, having seen theirs
    saved = save_product(ProductData(sku="TEA", price=350), seen={**seen, "price": 320}, ctx=ctx)
    assert saved.price == 350


def test_the_same_change_made_at_two_tills_is_no_conflict(tea, ctx):
    seen = product_values(tea.id)
    save_product(ProductData(sku="TEA", price=350), ctx=ctx)
    assert save_product(ProductData(sku="TEA", price=350), seen=seen, ctx=ctx).price == 350


def test_price_tax_cost_unit_and_active_changes_are_logged_with_who_and_till(tea, ctx):
    kim = Context(staff="Kim", terminal="till-2")
    save_product(ProductData(sku="TEA", price=350, tax_rate=19_000, unit="box", active=False, avg_cost=120,
                             name="Green tea", reorder_point=5000), ctx=kim)
    assert _log(tea.id)[5:] == [
        ("price", "300", "350", "edit", "Kim", "till-2"),
        ("tax_rate", "7000", "19000", "edit", "Kim", "till-2"),
        ("avg_cost", "100", "120", "revaluation", "Kim", "till-2"),
        ("unit", "pcs", "box", "edit", "Kim", "till-2"),
        ("active", "1", "0", "edit", "Kim", "till-2"),
    ]
    assert [row[:4] for row in _log(tea.id)[:5]] == [  # the product's creation
        ("price", None, "300", "create"), ("tax_rate", None, "7000", "create"), ("avg_cost", None, "0", "create"),
        ("unit", None, "pcs", "create"), ("active", None, "1", "create")]
    save_product(ProductData(sku="TEA", price=350, name="Tea"), ctx=kim)  # unchanged price: nothing logged
    assert len(_log(tea.id)) == 10


def test_the_change_log_is_append_only(tea, db):
    for sql in ("UPDATE product_change SET new = '1'", "DELETE FROM product_change"):
        with pytest.raises(peewee.DatabaseError, match="append-only"):
            with db.atomic():
                db.execute_sql(sql)


def test_a_save_that_fails_logs_nothing(tea, ctx):
    save_product(ProductData(sku="JAM", name="Jam", barcodes=["5000208081240"]), ctx=ctx)
    before = ProductChange.select().count()
    with pytest.raises(InvalidInput, match="already belongs to JAM"):
        save_product(ProductData(sku="TEA", price=999, barcodes=["5000208081240"]), ctx=ctx)
    assert ProductChange.select().count() == before
    assert Product.get_by_id(tea.id).price == 300


@pytest.mark.parametrize("code", ["AB 12", "SHELF_7", "X+1", "4006381333931"])
def test_codes_the_shop_uses_are_stored_as_they_are(db, code):
    save_product(ProductData(sku="A", name="A", barcodes=[code]))
    assert product_barcodes(find_product("A")) == [code]
    assert find_product(code).sku == "A"


@pytest.mark.parametrize("code, field, reason", [
    ("A,B", "barcodes", "cannot contain , or |"),
    ("A\x07B", "barcodes", "control characters"),
    ("4006381333932", "barcodes", "check digit"),
])
def test_a_bad_code_is_refused_naming_the_field(db, code, field, reason):
    with pytest.raises(InvalidInput) as caught:
        product_code(code)
    assert caught.value.field == field and reason in caught.value.reason


def test_a_scale_label_is_stored_as_its_item_code(db):
    layouts = BarcodeSettings(variable_measure=(VariableMeasureLayout(prefix="28", measure="weight",
                                                                      pattern="PPIIIIIVVVVV", decimals=3),))
    label = "2812345015001"  # item 12345, 1.500 kg
    code = product_code(label, layouts)
    assert code.code == "2812345000007" and "scale label" in code.note
    save_product(ProductData(sku="HAM", name="Ham", unit="kg", barcodes=[label]), layouts=layouts)
    assert product_barcodes(find_product("HAM")) == ["2812345000007"]


def test_an_existing_sku_is_refused_when_creating(tea):
    with pytest.raises(InvalidInput) as caught:
        save_product(ProductData(sku="TEA", name="Other tea"), new=True)
    assert caught.value.field == "sku"


def test_a_shop_from_the_previous_version_gets_the_change_log(tmp_path):
    """A database made before the change log (schema 1, with a product) is brought forward: the table and its
    append-only triggers exist, and the old product's changes are logged from then on."""
    from shopkeeper.db import MIGRATIONS, close_database, make_database, open_database
    from shopkeeper.models import SchemaVersion, database

    path = str(tmp_path / "old.db")
    old = make_database(path)
    database.initialize(old)
    with old.atomic():
        MIGRATIONS[0](old)
        SchemaVersion.insert(version=1).execute()
        Product.insert(sku="OLD", name="Old", price=100).execute()
    old.close()
    db = open_database(path)
    try:
        save_product(ProductData(sku="OLD", price=120))
        assert [(c.field, c.old, c.new) for c in ProductChange.select()] == [("price", "100", "120")]
        with pytest.raises(peewee.DatabaseError, match="append-only"):
            db.execute_sql("DELETE FROM product_change")
    finally:
        close_database()


def test_a_code_a_scanner_cannot_send_is_refused(db):
    with pytest.raises(InvalidInput) as caught:
        save_product(ProductData(sku="A", name="A", barcodes=["CAFÉ-1"]))
    assert caught.value.field == "barcodes" and "ASCII" in caught.value.reason
