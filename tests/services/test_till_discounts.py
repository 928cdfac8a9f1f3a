"""Discounts at the till: a percentage stays a percentage until payment; a sale discount never outlives the lines
it was given on."""

from __future__ import annotations

from shopkeeper.db import close_database, open_database
from shopkeeper.models import OpenSale, SaleLine, database
from shopkeeper.receipts import format_receipt
from shopkeeper.services import till

MILK, COFFEE, WATER = "4006381333931", "8711000530085", "5449000000996"  # 1.29, 11.50, 0.89


def test_a_line_discount_in_percent_follows_the_quantity(demo_db, ctx):
    draft = till.add_scan(ctx, "3*" + WATER)  # 2.67
    line_id = draft.lines[0].id
    draft = till.set_line_discount(ctx, line_id, rate=1000)
    assert (draft.line(line_id).discount, draft.line(line_id).discount_rate) == (27, 1000)
    draft = till.set_quantity(ctx, line_id, 1000)  # 0.89: 10 % is 0.09, not the 0.27 given on three
    assert (draft.line(line_id).discount, draft.line(line_id).discount_rate) == (9, 1000)
    assert draft.total == 80
    result = till.complete(ctx, "card")
    assert result.total == 80 and result.lines[0].discount_rate == 1000
    assert SaleLine.get(SaleLine.sale == result.sale_id).discount == 9


def test_a_sale_discount_in_percent_follows_the_lines(demo_db, ctx):
    till.add_scan(ctx, MILK)
    draft = till.add_scan(ctx, COFFEE)  # 12.79
    draft = till.set_sale_discount(ctx, rate=500)
    assert (draft.discount, draft.discount_rate, draft.total) == (64, 500, 1279 - 64)
    draft = till.remove_line(ctx, draft.lines[1].id)  # 1.29: 5 % is 0.06
    assert (draft.discount, draft.discount_rate, draft.total, draft.subtotal) == (6, 500, 123, 129)
    draft = till.add_scan(ctx, "2*" + MILK)  # 3 milk, 3.87: 0.19
    assert draft.discount == 19 and draft.notice is None
    result = till.complete(ctx, "cash")
    assert (result.discount, result.discount_rate, result.total) == (19, 500, 387 - 19)


def test_a_sale_discount_more_than_the_lines_left_is_removed_with_a_notice(demo_db, ctx):
    till.add_scan(ctx, MILK)
    draft = till.add_scan(ctx, COFFEE)
    draft = till.set_sale_discount(ctx, 500)
    draft = till.remove_line(ctx, draft.lines[1].id)  # 1.29 left: a 5.00 discount no longer fits
    assert draft.discount == 0 and draft.problem is None and draft.total == 129 and draft.subtotal == 129
    assert "5.00" in draft.notice and "removed" in draft.notice
    assert till.complete(ctx, "card").total == 129


def test_a_discount_that_still_fits_stays_without_a_notice(demo_db, ctx):
    draft = till.add_scan(ctx, "4*" + MILK)
    draft = till.set_sale_discount(ctx, 100)
    draft = till.set_quantity(ctx, draft.lines[0].id, 2000)
    assert draft.discount == 100 and draft.notice is None and draft.total == 158


def test_the_subtotal_is_the_lines_sum_even_when_the_sale_cannot_be_priced(demo_db, ctx):
    draft = till.add_scan(ctx, MILK)
    OpenSale.update(discount=9_999).where(OpenSale.id == draft.id).execute()  # left by an older version
    draft = till.current_sale(ctx)
    assert draft.problem and draft.subtotal == 129


def test_receipt_shows_percent_discounts_as_percent(demo_db, ctx):
    draft = till.add_scan(ctx, "3*" + WATER)
    till.set_line_discount(ctx, draft.lines[0].id, rate=1000)
    till.add_scan(ctx, COFFEE)
    till.set_sale_discount(ctx, rate=500)
    text = format_receipt(till.complete(ctx, "card"), width=40)
    assert any(line.startswith("  discount 10 %") and line.endswith("-0.27") for line in text.splitlines())
    assert any(line.startswith("Sale discount 5 %") and line.endswith("-0.70") for line in text.splitlines())


def test_a_database_of_the_previous_version_gets_the_percent_columns(db_path):
    db = open_database(str(db_path))
    for table in ("open_sale", "open_sale_line"):
        db.execute_sql(f"ALTER TABLE {table} DROP COLUMN discount_rate")
    db.execute_sql("DROP TABLE till_claim")
    db.execute_sql("DELETE FROM schema_version WHERE version > 1")
    close_database()
    db = open_database(str(db_path))
    try:
        for table in ("open_sale", "open_sale_line"):
            assert "discount_rate" in {c.name for c in database.get_columns(table)}
        assert database.table_exists("till_claim")
    finally:
        close_database()
