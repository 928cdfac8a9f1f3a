"""The stored-text rule and the display form (``shopkeeper.text``), and the rule at every place text is accepted."""

from __future__ import annotations

import pytest

from shopkeeper.errors import InvalidInput
from shopkeeper.models import CountSession, Movement, OpenSale, Product, Staff, Supplier
from shopkeeper.services import catalog, sales, stock, till
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.text import clean, printable, safe

ESC = "\x1b]2;pwned\x07"


def test_safe_writes_every_control_character_as_an_escape():
    assert safe("Tea [bold]x80[/bold]") == "Tea [bold]x80[/bold]"  # markup is not its business: text stays text
    assert safe("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert safe("\x00\x07\x7f\x9b\t\n\r\u2028") == "\\x00\\x07\\x7f\\x9b\\t\\n\\r\\u2028"
    assert safe(safe("a\x1bb")) == "a\\x1bb"
    assert "\x1b" not in safe(ESC)


def test_printable_drops_controls_and_keeps_words_apart():
    assert printable("Jam\x1bp\x00\x19\xfa 340 g") == "Jamp\xfa 340 g"
    assert printable("two\nlines\tand\u2028more") == "two lines and more"
    assert printable("Crème brûlée") == "Crème brûlée"


def test_clean_makes_line_breaks_a_space_and_refuses_other_controls():
    assert clean("Pear; ripe\r\nsoft\tfruit", field="name") == "Pear; ripe  soft fruit"
    assert clean("T-shirt [XL]", field="name") == "T-shirt [XL]"
    for bad in ("Tea\x00", "Tea" + ESC, "Tea\x9b2J", "Tea\x7f"):
        with pytest.raises(InvalidInput) as caught:
            clean(bad, field="name")
        error = caught.value
        assert (error.field, error.value) == ("name", bad)
        assert "control character" in error.reason and error.reason in str(error)
        assert not any(ch in str(error) for ch in "\x00\x1b\x07\x9b\x7f")  # the message itself is safe to print


def test_catalog_saves_refuse_control_characters_in_every_text_field(db):
    for name in catalog.TEXT_FIELDS:
        data = ProductData(sku="TEA", name="Tea", unit="pcs")
        setattr(data, name, "Tea" + ESC)
        with pytest.raises(InvalidInput) as caught:
            save_product(data)
        assert caught.value.field == name
    assert not Product.select().exists() and not Supplier.select().exists()
    assert save_product(ProductData(sku="TEE", name="T-shirt [XL]\n")).name == "T-shirt [XL]"


def test_movements_sales_and_the_till_refuse_control_characters(db, ctx):
    save_product(ProductData(sku="TEA", name="Tea", price=300))
    refused = [
        (lambda: stock.receive(ctx, "TEA", 1000, 100, reference="INV" + ESC), "reference"),
        (lambda: stock.adjust(ctx, "TEA", -1000, "damaged", note="box" + ESC), "note"),
        (lambda: stock.start_count(ctx, "aisle" + ESC), "note"),
        (lambda: sales.sell(ctx, [sales.LineInput(None, 1000, 250, description="Mug" + ESC)]), "description"),
        (lambda: sales.refund(ctx, [sales.ReturnInput("TEA", 1000)], reason="faulty" + ESC), "reason"),
        (lambda: till.add_one_off(ctx, "Mug" + ESC, 250), "description"),
        (lambda: till.start_refund(ctx, None, "faulty" + ESC), "reason"),
        (lambda: stock.receive(ctx.as_staff("Eve" + ESC), "TEA", 1000, 100), "staff"),
    ]
    for call, field in refused:
        with pytest.raises(InvalidInput) as caught:
            call()
        assert caught.value.field == field
    till.add_scan(ctx, "TEA")
    with pytest.raises(InvalidInput) as caught:
        till.park(ctx, "for Ana" + ESC)
    assert caught.value.field == "note"
    assert not Movement.select().exists() and not CountSession.select().exists()
    assert not Staff.select().where(Staff.name.contains("Eve")).exists()
    assert OpenSale.get().status == "open"
