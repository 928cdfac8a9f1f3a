import pytest

from shopkeeper.errors import InvalidInput, NotFound
from shopkeeper.models import Product
from shopkeeper.services.catalog import (
    ProductData,
    find_product,
    product_barcodes,
    save_product,
    set_barcodes,
)


def test_product_found_by_sku_or_any_form_of_its_barcode(db):
    save_product(ProductData(sku="CEREAL", name="Cereal", barcodes=["036000291452"]))  # UPC-A
    assert find_product("CEREAL").sku == "CEREAL"
    assert find_product("036000291452").sku == "CEREAL"
    assert find_product("0036000291452").sku == "CEREAL"  # the same code as EAN-13
    with pytest.raises(NotFound, match="unknown product"):
        find_product("4006381333931")


def test_wrong_check_digit_says_so(db):
    with pytest.raises(InvalidInput, match="check digit"):
        find_product("4006381333932")
    with pytest.raises(InvalidInput, match="check digit"):
        save_product(ProductData(sku="X", name="X", barcodes=["4006381333932"]))
    assert not Product.select().exists()


def test_a_barcode_belongs_to_one_product(db):
    tea = save_product(ProductData(sku="TEA", name="Tea", barcodes=["5000208081240"]))
    jam = save_product(ProductData(sku="JAM", name="Jam"))
    with pytest.raises(InvalidInput, match="already belongs to TEA"):
        set_barcodes(jam, ["5000208081240"])
    set_barcodes(tea, ["5000208081240", "4006381333931", "5000208081240"])
    assert product_barcodes(tea) == ["5000208081240", "4006381333931"]


def test_update_keeps_fields_not_given_and_never_touches_stock(db):
    save_product(ProductData(sku="TEA", name="Tea", price=300, reorder_point=2000, supplier="Bean Roasters"))
    p = save_product(ProductData(sku="TEA", price=350))
    assert (p.name, p.price, p.reorder_point, p.supplier.name, p.on_hand) == ("Tea", 350, 2000, "Bean Roasters", 0)


@pytest.mark.parametrize("data, message", [
    (ProductData(sku="", name="x"), "sku"),
    (ProductData(sku="NEW"), "needs a name"),
    (ProductData(sku="NEW", name="x", price=-1), "price must not be negative"),
])
def test_invalid_products_are_refused(db, data, message):
    with pytest.raises(InvalidInput, match=message):
        save_product(data)


def test_goods_without_a_barcode_get_a_unique_in_store_code(db):
    from shopkeeper.barcodes import validate_gtin
    from shopkeeper.services.catalog import assign_in_store_barcode

    bread = save_product(ProductData(sku="BREAD", name="Bread"))
    buns = save_product(ProductData(sku="BUNS", name="Buns"))
    first = assign_in_store_barcode(bread, "20")
    second = assign_in_store_barcode(buns, "20")
    assert first.startswith("20") and validate_gtin(first) == first
    assert second != first and validate_gtin(second) == second
    assert assign_in_store_barcode(bread, "20") == first  # already has one: kept
    assert find_product(second).sku == "BUNS"
