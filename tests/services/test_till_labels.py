"""2D labels at the till: expiry (a warning the cashier acknowledges), lot and expiry kept for a recall, a weight
on goods sold by the piece, a price in another currency, a book's add-on."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from shopkeeper.errors import InvalidInput
from shopkeeper.models import Movement, SaleLine
from shopkeeper.services import catalog, till

MILK = "04006381333931"  # MILK-1L (sold by the piece), 1.29, as the GTIN-14 of a GS1 element string
TODAY = dt.date(2026, 11, 28)


def milk_label(expiry: str, lot: str = "L2611A") -> str:
    """A GS1 DataMatrix on a milk carton: GTIN, expiry (17), lot (10), as the scanner sends it."""
    return f"]d201{MILK}17{expiry}10{lot}"


def test_expired_label_is_refused_until_acknowledged(demo_db, ctx):
    with pytest.raises(till.ExpiredItem) as err:
        till.add_scan(ctx, milk_label("261127"), today=TODAY)
    assert (err.value.field, err.value.reason, err.value.value) == ("expiry", "expired", "2026-11-27")
    assert "EXPIRED on 2026-11-27, lot L2611A" in str(err.value)
    assert till.current_sale(ctx, create=False) is None or till.current_sale(ctx).empty
    draft = till.add_scan(ctx, milk_label("261127"), today=TODAY, accept_expired=True)
    assert [(line.sku, line.lot, line.expiry) for line in draft.lines] == [("MILK-1L", "L2611A", "2026-11-27")]


def test_label_expiring_today_or_later_sells_without_a_question(demo_db, ctx):
    draft = till.add_scan(ctx, milk_label("261128"), today=TODAY)
    assert draft.lines[0].expiry == "2026-11-28"


def test_lot_and_expiry_reach_the_sale_line_and_the_movement_for_a_recall(demo_db, ctx):
    till.add_scan(ctx, milk_label("261205", "LOT-A"), today=TODAY)
    till.add_scan(ctx, milk_label("261212", "LOT-B"), today=TODAY)
    draft = till.add_scan(ctx, "4006381333931", today=TODAY)  # a plain EAN-13: no lot
    assert [(line.lot, line.quantity) for line in draft.lines] == [("LOT-A", 1000), ("LOT-B", 1000), (None, 1000)]
    result = till.complete(ctx, "card")
    lines = SaleLine.select().where(SaleLine.sale == result.sale_id).order_by(SaleLine.line_no)
    assert [(line.lot, line.expiry) for line in lines] == [("LOT-A", "2026-12-05"), ("LOT-B", "2026-12-12"),
                                                          (None, None)]
    recalled = Movement.select().where(Movement.lot == "LOT-A")
    assert [(m.kind, m.quantity, m.expiry, m.sale_id) for m in recalled] == [("sale", -1000, "2026-12-05",
                                                                             result.sale_id)]


def test_weight_on_a_product_sold_by_the_piece_is_refused_not_sold_as_half_a_piece(demo_db, ctx):
    # GS1 element string: GTIN + net weight 0.500 kg, AI (3103).
    with pytest.raises(InvalidInput, match=r"MILK-1L is sold by the piece.*0\.5 pieces") as err:
        till.add_scan(ctx, f"]C101{MILK}3103000500")
    assert err.value.field == "quantity"
    assert till.current_sale(ctx).empty


def test_weight_on_goods_sold_by_weight_still_sells_its_weight(demo_db, ctx):
    olives = catalog.find_product("OLIVES-KG")
    catalog.set_barcodes(olives, ["09501101530003"])
    draft = till.add_scan(ctx, "]C10109501101530003\x1d3103000500")
    assert (draft.lines[0].sku, draft.lines[0].quantity) == ("OLIVES-KG", 500)


def test_price_in_the_shops_currency_is_charged_and_another_currency_is_refused(demo_db, ctx):
    eur = replace(ctx, currency="EUR")
    # AI (3932): ISO 4217 978 (EUR), 2 decimals, 1.99
    draft = till.add_scan(eur, f"]C101{MILK}\x1d39329780199")
    assert draft.lines[0].priced.total == 199
    till.void(eur)
    with pytest.raises(InvalidInput, match=r"currency 840 \(USD\), not the shop's EUR"):
        till.add_scan(eur, f"]C101{MILK}\x1d39328400199")
    assert till.current_sale(eur).empty


def test_digital_link_sells_its_gtin_with_lot(demo_db, ctx):
    draft = till.add_scan(ctx, "]Q1https://id.gs1.org/01/04006381333931/10/ABC123?17=271231", today=TODAY)
    assert [(line.sku, line.lot, line.expiry) for line in draft.lines] == [("MILK-1L", "ABC123", "2027-12-31")]


def test_empty_lot_at_the_end_never_blocks_the_sale(demo_db, ctx):
    draft = till.add_scan(ctx, f"01{MILK}10")
    assert [(line.sku, line.lot) for line in draft.lines] == [("MILK-1L", None)]


def test_book_with_price_add_on_sells_the_book_and_keeps_the_add_on(demo_db, ctx):
    book = catalog.find_product("MILK-1L")  # any product: give it the book's ISBN
    catalog.set_barcodes(book, ["9780306406157"])
    item = till.resolve_scan(ctx, "]E3978030640615752495")
    assert (item.product.sku, item.addon, item.quantity, item.addon_price) == ("MILK-1L", "52495", 1000,
                                                                                ("USD", 2495))
    draft = till.add_scan(ctx, "978030640615752495")
    assert draft.lines[0].code == "978030640615752495"  # the line keeps the code as scanned, add-on included
    assert draft.lines[0].priced.total == 129  # the shop's price is charged; the add-on's is only shown
    assert draft.notice == "MILK-1L: the add-on 52495 prints a price of USD 24.95"


def test_a_refund_takes_an_expired_item_back_without_the_question(demo_db, ctx):
    till.start_refund(ctx, reason="customer brought back expired milk")
    draft = till.add_scan(ctx, milk_label("261101", "L2610"), today=TODAY)
    assert draft.mode == "refund" and [(line.sku, line.lot) for line in draft.lines] == [("MILK-1L", "L2610")]


def test_goods_returned_against_the_sale_come_back_with_their_lot(demo_db, ctx):
    from shopkeeper.services import sales

    till.add_scan(ctx, milk_label("261205", "LOT-A"), today=TODAY)
    sold = till.complete(ctx, "card")
    back = sales.refund(ctx, sale_id=sold.sale_id)
    returned = Movement.get((Movement.sale == back.sale_id) & (Movement.kind == "return"))
    assert (returned.lot, returned.expiry) == ("LOT-A", "2026-12-05")
    assert SaleLine.get(SaleLine.sale == back.sale_id).lot == "LOT-A"


# GS1's published examples (see tests/test_barcodes_2d.py for their sources): GTIN 09521234543213 with batch ABC123
# and expiry 31 December 2026 (BWIPP's "GS1 Digital Link URIs", after the GS1 Digital Link standard), and GTIN
# 614141123452 with a net weight of 0.195 kg (the GS1 Digital Link standard's example, quoted in biip's docs).
GS1_DL_LOT_EXPIRY = "https://id.gs1.org/01/09521234543213/10/ABC123?17=261231"
GS1_DL_WEIGHT = "https://id.gs1.org/01/614141123452?3103=000195"


def test_gs1_example_past_its_expiry_asks_first_and_keeps_its_batch(demo_db, ctx):
    catalog.set_barcodes(catalog.find_product("MILK-1L"), ["09521234543213"])
    assert till.add_scan(ctx, "]Q1" + GS1_DL_LOT_EXPIRY, today=dt.date(2026, 12, 31)).lines[0].lot == "ABC123"
    till.void(ctx)
    with pytest.raises(till.ExpiredItem, match="EXPIRED on 2026-12-31, lot ABC123"):
        till.add_scan(ctx, "]Q1" + GS1_DL_LOT_EXPIRY, today=dt.date(2027, 1, 1))


def test_gs1_example_weight_on_a_product_sold_by_the_piece_is_refused(demo_db, ctx):
    catalog.set_barcodes(catalog.find_product("MILK-1L"), ["0614141123452"])
    with pytest.raises(InvalidInput, match=r"sold by the piece, but this label gives a weight \(0\.195 kg\)"):
        till.add_scan(ctx, GS1_DL_WEIGHT)
    olives = catalog.find_product("OLIVES-KG")
    catalog.set_barcodes(catalog.find_product("MILK-1L"), [])
    catalog.set_barcodes(olives, ["0614141123452"])
    assert till.add_scan(ctx, GS1_DL_WEIGHT).lines[0].quantity == 195  # sold by weight: 0.195 kg
