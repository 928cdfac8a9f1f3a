"""The open sale at a till: saved as it grows, priced as it will be charged, committed all at once."""

from __future__ import annotations

import subprocess
import sys

import pytest
from biip.checksums import gs1_price_weight_check_digit, gs1_standard_check_digit

from shopkeeper.barcode_settings import BarcodeSettings, VariableMeasureLayout
from shopkeeper.errors import InvalidInput, NotFound, ShopError
from shopkeeper.models import Movement, OpenSale, OpenSaleLine, Product, Sale, SaleLine
from shopkeeper.services import catalog, sales, till
from shopkeeper.services.till import UnknownCode

MILK = "4006381333931"  # MILK-1L, 1.29
COFFEE = "8711000530085"  # COFFEE-500, 11.50
LAYOUTS = BarcodeSettings(variable_measure=(
    VariableMeasureLayout(prefix="28", measure="weight", pattern="PPIIIIICVVVV", decimals=3, name="deli scale"),
    VariableMeasureLayout(prefix="29", measure="price", pattern="PPIIIIICVVVV", decimals=2, name="price label"),
))


def scale_label(prefix: str, item: str, value: str) -> str:
    payload = f"{prefix}{item}{gs1_price_weight_check_digit(value)}{value}"
    return payload + str(gs1_standard_check_digit(payload))


def lookup_code(prefix: str, item: str) -> str:
    return scale_label(prefix, item, "0000")


@pytest.fixture
def weighed(demo_db):
    """OLIVES-KG carries the zeroed code of deli-scale item 12345 (weight) and of price-label item 12345."""
    olives = catalog.find_product("OLIVES-KG")
    catalog.set_barcodes(olives, [lookup_code("28", "12345"), lookup_code("29", "12345")])
    return olives


def test_split_quantity():
    assert till.split_quantity("3*4006381333931") == (3000, "4006381333931")
    assert till.split_quantity(" 0.5 * OLIVES-KG") == (500, "OLIVES-KG")
    assert till.split_quantity("2,25*X") == (2250, "X")
    assert till.split_quantity("3*") == (3000, "")
    assert till.split_quantity("MILK-1L") == (None, "MILK-1L")
    assert till.split_quantity("2X4-TIMBER") == (None, "2X4-TIMBER")
    with pytest.raises(InvalidInput):
        till.split_quantity("0*MILK-1L")


def test_current_sale_is_created_lazily_and_resumed(demo_db, ctx):
    assert till.current_sale(ctx, create=False) is None
    draft = till.current_sale(ctx)
    assert draft.empty and draft.mode == "sale" and draft.terminal == "till-1"
    till.add_scan(ctx, MILK)
    again = till.current_sale(ctx)
    assert again.id == draft.id and [line.sku for line in again.lines] == ["MILK-1L"]
    other = till.current_sale(ctx.__class__(staff="x", terminal="till-2"))
    assert other.id != draft.id and other.empty


def test_same_item_again_adds_to_its_quantity(demo_db, ctx):
    till.add_scan(ctx, MILK)
    till.add_scan(ctx, COFFEE)
    draft = till.add_scan(ctx, MILK)
    assert [(line.sku, line.quantity) for line in draft.lines] == [("MILK-1L", 2000), ("COFFEE-500", 1000)]
    assert draft.changed_line == draft.lines[0].id
    assert draft.total == 2 * 129 + 1150


def test_multiplier_sets_the_quantity(demo_db, ctx):
    draft = till.add_scan(ctx, "6*" + MILK)
    assert draft.lines[0].quantity == 6000
    draft = till.add_scan(ctx, MILK, quantity=2000)
    assert draft.lines[0].quantity == 8000
    draft = till.add_scan(ctx, "0.5*OLIVES-KG")
    assert draft.lines[1].quantity == 500 and draft.lines[1].priced.total == 745
    with pytest.raises(InvalidInput, match="code is needed"):
        till.add_scan(ctx, "3*")


def test_the_sale_counts_items_as_a_cashier_does_pieces_by_number_a_weighed_line_as_one(demo_db, ctx):
    till.add_scan(ctx, "3*" + MILK)
    till.add_scan(ctx, "1.25*CHEESE-KG")
    draft = till.add_scan(ctx, "0.35*OLIVES-KG")
    assert draft.units == 4600  # thousandths over the lines: kilograms added to pieces
    assert draft.items == 5  # three bottles, a piece of cheese, a tub of olives


def test_unknown_code_raises_a_specific_error(demo_db, ctx):
    with pytest.raises(UnknownCode) as info:
        till.add_scan(ctx, "4*NO-SUCH-THING")
    assert info.value.code == "NO-SUCH-THING" and info.value.quantity == 4000
    assert isinstance(info.value, ShopError)


def test_wrong_check_digit_is_refused_not_looked_up(demo_db, ctx):
    with pytest.raises(InvalidInput, match="check digit"):
        till.add_scan(ctx, MILK[:-1] + "0")


@pytest.mark.parametrize(("sku", "misscan"), [("123456789013", "123456789014"), ("00012345", "00012346"),
                                             ("12345678901230", "12345678901232")])
def test_numeric_sku_that_fails_its_check_digit_sells_as_that_sku(demo_db, ctx, sku, misscan):
    # issue 16: "a code that fails its check digit but is exactly a SKU is that SKU" (an import keeps such SKUs)
    catalog.save_product(catalog.ProductData(sku=sku, name="Numbered item", price=100))
    draft = till.add_scan(ctx, f"2*{sku}")
    assert [(line.sku, line.quantity) for line in draft.lines] == [(sku, 2000)]
    with pytest.raises(InvalidInput, match="check digit"):  # one digit off is still a mis-scan, not a lookup
        till.add_scan(ctx, misscan)


def test_unknown_code_then_create_product_and_sell(demo_db, ctx):
    with pytest.raises(UnknownCode):
        till.add_scan(ctx, "9780306406157")
    product = catalog.save_product(catalog.ProductData(sku="BOOK-1", name="A book", price=1999,
                                                       barcodes=["9780306406157"]))
    draft = till.add_product(ctx, product)
    assert draft.lines[0].sku == "BOOK-1"
    assert till.add_scan(ctx, "9780306406157").lines[0].quantity == 2000


def test_one_off_item_at_a_typed_price(demo_db, ctx):
    draft = till.add_one_off(ctx, "Gift wrap", 250)
    line = draft.lines[0]
    assert line.product_id is None and line.priced.tax_rate == ctx.default_tax_rate and draft.total == 250
    result = till.complete(ctx, "card")
    assert result.total == 250 and not Movement.select().where(Movement.sale == result.sale_id).exists()


def test_weighed_item_from_a_scale_label(weighed, ctx):
    label = scale_label("28", "12345", "0250")  # 0.250 kg
    draft = till.add_scan(ctx, label, layouts=LAYOUTS)
    line = draft.lines[0]
    assert (line.sku, line.quantity, line.unit_price, line.weighed) == ("OLIVES-KG", 250, 1490, True)
    assert draft.total == 372  # 0.250 × 14.90 = 3.725, rounded half to even
    draft = till.add_scan(ctx, label, layouts=LAYOUTS)
    assert len(draft.lines) == 2, "each label is its own line, never merged"
    result = till.complete(ctx, "card")
    assert [m.quantity for m in Movement.select().where(Movement.sale == result.sale_id)] == [-250, -250]


def test_price_label_charges_the_printed_price_exactly(weighed, ctx):
    label = scale_label("29", "12345", "0399")  # 3.99 of olives at 14.90/kg
    draft = till.add_scan(ctx, label, layouts=LAYOUTS)
    line = draft.lines[0]
    assert line.priced.total == 399 and line.quantity == 268  # 0.268 kg leaves stock
    result = till.complete(ctx, "cash", 500)
    assert result.total == 399 and result.change == 101


def test_remove_line_and_set_quantity(demo_db, ctx):
    till.add_scan(ctx, MILK)
    draft = till.add_scan(ctx, COFFEE)
    milk, coffee = draft.lines
    draft = till.set_quantity(ctx, milk.id, 3000)
    assert draft.line(milk.id).quantity == 3000
    draft = till.remove_line(ctx, coffee.id)
    assert [line.sku for line in draft.lines] == ["MILK-1L"]
    draft = till.set_quantity(ctx, milk.id, 0)
    assert draft.empty
    with pytest.raises(NotFound):
        till.remove_line(ctx, coffee.id)


def test_line_and_sale_discounts_are_what_is_charged(demo_db, ctx):
    till.add_scan(ctx, "2*" + MILK)
    draft = till.add_scan(ctx, COFFEE)
    draft = till.set_line_discount(ctx, draft.lines[1].id, 150)
    assert draft.total == 258 + 1000
    draft = till.set_sale_discount(ctx, rate=1000)  # 10 %
    assert draft.discount == 126 and draft.total == 1258 - 126
    with pytest.raises(InvalidInput):
        till.set_sale_discount(ctx, 10_000)
    with pytest.raises(InvalidInput):
        till.set_line_discount(ctx, draft.lines[0].id, 259)
    shown = draft.total
    result = till.complete(ctx, "card")
    assert result.total == shown and result.discount == 126
    assert sum(line.total for line in SaleLine.select().where(SaleLine.sale == result.sale_id)) == shown


def test_scan_after_a_line_discount_starts_a_new_line(demo_db, ctx):
    draft = till.add_scan(ctx, MILK)
    till.set_line_discount(ctx, draft.lines[0].id, 29)
    draft = till.add_scan(ctx, MILK)
    assert [(line.quantity, line.discount) for line in draft.lines] == [(1000, 29), (1000, 0)]


def test_void_throws_the_draft_away(demo_db, ctx):
    till.add_scan(ctx, MILK)
    before = Movement.select().count()
    till.void(ctx)
    assert not OpenSale.select().exists() and not OpenSaleLine.select().exists()
    assert Movement.select().count() == before
    assert till.current_sale(ctx).empty


def test_park_and_resume(demo_db, ctx):
    with pytest.raises(InvalidInput, match="empty"):
        till.park(ctx)
    till.add_scan(ctx, MILK)
    parked_id = till.park(ctx, "lady in red")
    assert till.current_sale(ctx).empty
    till.add_scan(ctx, COFFEE)
    listing = till.parked_sales()
    assert [(p.id, p.note, p.lines, p.terminal) for p in listing] == [(parked_id, "lady in red", 1, "till-1")]
    draft = till.resume(ctx, parked_id)
    assert [line.sku for line in draft.lines] == ["MILK-1L"] and draft.status == "open"
    assert [line.lines for line in till.parked_sales()] == [1], "the coffee sale was parked in its place"
    with pytest.raises(NotFound):
        till.resume(ctx, parked_id)


def test_a_parked_sale_resumes_at_another_terminal(demo_db, ctx):
    till.add_scan(ctx, MILK)
    parked_id = till.park(ctx)
    other = ctx.__class__(staff="x", terminal="till-2", default_tax_rate=20_000)
    draft = till.resume(other, parked_id)
    assert draft.terminal == "till-2"
    assert till.complete(other, "card").total == 129


def test_cash_with_change_commits_and_deletes_the_draft(demo_db, ctx):
    till.add_scan(ctx, "3*" + MILK)
    on_hand = catalog.find_product("MILK-1L").on_hand
    result = till.complete(ctx, "cash", 500)
    assert (result.total, result.tendered, result.change) == (387, 500, 113)
    assert Product.get(Product.sku == "MILK-1L").on_hand == on_hand - 3000
    assert not OpenSale.select().exists()
    assert till.current_sale(ctx).empty


def test_too_little_cash_keeps_the_draft(demo_db, ctx):
    till.add_scan(ctx, COFFEE)
    with pytest.raises(InvalidInput, match="less than the total"):
        till.complete(ctx, "cash", 1000)
    assert [line.sku for line in till.current_sale(ctx).lines] == ["COFFEE-500"]


def test_failed_completion_leaves_no_half_sale(demo_db, ctx):
    """Refuse-negative stock rolls the whole thing back: no sale row, no movement, the draft still there."""
    refuse = ctx.__class__(staff="t", terminal="till-1", negative_stock="refuse", default_tax_rate=20_000)
    till.add_scan(refuse, COFFEE)
    till.add_scan(refuse, "999*" + MILK)
    sales_before, moves_before = Sale.select().count(), Movement.select().count()
    with pytest.raises(ShopError):
        till.complete(refuse, "card")
    assert (Sale.select().count(), Movement.select().count()) == (sales_before, moves_before)
    assert len(till.current_sale(refuse).lines) == 2


def test_inactive_product_is_refused_at_scan_and_flagged_on_the_draft(demo_db, ctx):
    till.add_scan(ctx, MILK)
    catalog.save_product(catalog.ProductData(sku="MILK-1L", active=False))
    with pytest.raises(InvalidInput, match="inactive"):
        till.add_scan(ctx, MILK)
    assert "inactive" in till.current_sale(ctx).problem
    with pytest.raises(InvalidInput, match="inactive"):
        till.complete(ctx, "card")


def test_refund_against_a_sale(demo_db, ctx):
    till.add_scan(ctx, "2*" + MILK)
    draft = till.add_scan(ctx, COFFEE)
    till.set_sale_discount(ctx, 100)
    sold = till.complete(ctx, "card")
    draft = till.start_refund(ctx, sold.sale_id)
    assert draft.mode == "refund" and [line.quantity for line in draft.lines] == [2000, 1000]
    assert draft.total == sold.total
    milk = draft.lines[0]
    draft = till.remove_line(ctx, draft.lines[1].id)
    draft = till.set_quantity(ctx, milk.id, 1000)
    with pytest.raises(InvalidInput, match="only 2"):
        till.set_quantity(ctx, milk.id, 3000)
    with pytest.raises(InvalidInput, match="discounts do not apply"):
        till.set_line_discount(ctx, milk.id, 10)
    shown = draft.total
    result = till.complete(ctx, "cash")
    assert result.kind == "return" and result.total == -shown
    # the rest: the other milk and the coffee, exactly what is left of the sale
    draft = till.start_refund(ctx, sold.sale_id)
    assert [line.quantity for line in draft.lines] == [1000, 1000]
    second = till.complete(ctx, "card")
    assert result.total + second.total == -sold.total
    with pytest.raises(InvalidInput, match="already been returned"):
        till.start_refund(ctx, sold.sale_id)


def test_refund_scan_counts_items_back_up_to_what_was_sold(demo_db, ctx):
    till.add_scan(ctx, "2*" + MILK)
    sold = till.complete(ctx, "card")
    draft = till.start_refund(ctx, sold.sale_id)
    till.set_quantity(ctx, draft.lines[0].id, 1000)
    assert till.add_scan(ctx, MILK).lines[0].quantity == 2000
    with pytest.raises(InvalidInput, match="only 2"):
        till.add_scan(ctx, MILK)
    with pytest.raises(InvalidInput, match="not on sale"):
        till.add_scan(ctx, COFFEE)


def test_refund_without_receipt_needs_a_reason(demo_db, ctx):
    with pytest.raises(InvalidInput, match="reason"):
        till.start_refund(ctx)
    till.start_refund(ctx, reason="faulty")
    draft = till.add_scan(ctx, COFFEE)
    assert draft.total == 1150
    with pytest.raises(InvalidInput, match="catalogue items only"):
        till.add_one_off(ctx, "thing", 100)
    on_hand = catalog.find_product("COFFEE-500").on_hand
    result = till.complete(ctx, "cash")
    assert result.total == -1150 and Sale.get_by_id(result.sale_id).reason == "faulty"
    assert catalog.find_product("COFFEE-500").on_hand == on_hand + 1000


def test_refund_needs_an_empty_sale(demo_db, ctx):
    till.add_scan(ctx, MILK)
    with pytest.raises(InvalidInput, match="before starting a refund"):
        till.start_refund(ctx, reason="x")


def test_draft_survives_a_process_killed_mid_sale(demo_db, db_path, ctx):
    """A process adds two lines and is killed -9; this process finds them in the open sale."""
    code = (
        "import os, signal\n"
        "from shopkeeper.db import open_database\n"
        "from shopkeeper.services import till\n"
        "from shopkeeper.services.context import Context\n"
        f"open_database({str(db_path)!r})\n"
        "c = Context(staff='t', terminal='till-1', default_tax_rate=20_000)\n"
        f"till.add_scan(c, {MILK!r}); till.add_scan(c, '2*' + {COFFEE!r})\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert proc.returncode == -9, proc.stderr.decode()
    draft = till.current_sale(ctx)
    assert [(line.sku, line.quantity) for line in draft.lines] == [("MILK-1L", 1000), ("COFFEE-500", 2000)]


def test_two_terminals_ring_up_at_once_without_mixing(demo_db, db_path, ctx):
    code = (
        "from shopkeeper.db import open_database\n"
        "from shopkeeper.services import till\n"
        "from shopkeeper.services.context import Context\n"
        f"open_database({str(db_path)!r})\n"
        "c = Context(staff='t', terminal='till-2')\n"
        f"for _ in range(30): till.add_scan(c, {COFFEE!r})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    for _ in range(30):
        till.add_scan(ctx, MILK)
    assert proc.wait(60) == 0
    other = till.current_sale(ctx.__class__(terminal="till-2"))
    assert [(line.sku, line.quantity) for line in till.current_sale(ctx).lines] == [("MILK-1L", 30_000)]
    assert [(line.sku, line.quantity) for line in other.lines] == [("COFFEE-500", 30_000)]


def test_price_lines_matches_sell_for_every_draft(demo_db, ctx):
    """Whatever the draft shows is what sell() charges, to the cent, with a sale discount spread over lines."""
    for code in ("3*" + MILK, COFFEE, "0.333*OLIVES-KG", "WINE-RED"):
        draft = till.add_scan(ctx, code)
    draft = till.set_sale_discount(ctx, 77)
    shown = [(line.priced.total, line.priced.tax) for line in draft.lines]
    result = till.complete(ctx, "card")
    assert [(line.total, line.tax) for line in result.lines] == shown
    assert result.total == draft.total and result.tax == draft.tax


def test_complete_on_empty_sale_is_refused_and_records_nothing(demo_db, ctx):
    sales_before, movements_before = Sale.select().count(), Movement.select().count()
    with pytest.raises(InvalidInput, match="empty"):
        till.complete(ctx, "cash")
    with pytest.raises(InvalidInput):
        sales.sell(ctx, [])
    assert (Sale.select().count(), Movement.select().count()) == (sales_before, movements_before)


def test_refund_takes_back_part_of_a_one_off_line(demo_db, ctx):
    till.add_scan(ctx, MILK)
    till.add_one_off(ctx, "Gift wrap", 250, 2000)
    sold = till.complete(ctx, "card")
    draft = till.start_refund(ctx, sold.sale_id)
    wrap = next(line for line in draft.lines if line.product_id is None)
    draft = till.remove_line(ctx, next(line for line in draft.lines if line.product_id is not None).id)
    draft = till.set_quantity(ctx, wrap.id, 1000)
    assert draft.total == 250
    result = till.complete(ctx, "cash")
    assert result.total == -250


def _open_drafts(db) -> list[tuple[int, str, str]]:
    return db.execute_sql("SELECT id, status, note FROM open_sale ORDER BY id").fetchall()


def test_the_schema_refuses_a_second_open_sale_at_one_till(demo_db, ctx):
    import peewee

    from shopkeeper.db import utcnow
    from shopkeeper.services.context import terminal_id

    till.add_scan(ctx, "MILK-1L")
    with pytest.raises(peewee.IntegrityError), demo_db.atomic():
        OpenSale.create(terminal=terminal_id(ctx), status="open", created_at=utcnow(), updated_at=utcnow())
    till.park(ctx)
    till.add_scan(ctx, "MILK-1L")  # a parked sale leaves room for a new open one
    assert [status for _, status, _ in _open_drafts(demo_db)] == ["parked", "open"]


def test_upgrading_a_database_with_two_open_sales_at_one_till_parks_the_newer(demo_db, ctx):
    """The race the index closes may already have happened: the migration keeps the oldest open, parks the rest
    with a note, and deletes nothing."""
    from shopkeeper.db import PARKED_ON_UPGRADE, _m010_one_open_sale_per_till

    first = till.add_scan(ctx, "MILK-1L").id
    demo_db.execute_sql("DROP INDEX open_sale_one_open_per_till")  # the schema before the migration
    demo_db.execute_sql("INSERT INTO open_sale (terminal_id, staff_id, status, mode, discount, note, created_at, "
                        "updated_at) SELECT terminal_id, staff_id, 'open', 'sale', 0, '', created_at, updated_at "
                        "FROM open_sale")
    with demo_db.atomic():
        _m010_one_open_sale_per_till(demo_db)
    assert _open_drafts(demo_db) == [(first, "open", ""), (first + 1, "parked", PARKED_ON_UPGRADE)]
    assert till.current_sale(ctx).id == first and len(till.current_sale(ctx).lines) == 1
    assert [p.id for p in till.parked_sales()] == [first + 1]
