"""Split tender, change only from cash, cash rounding recorded so the books balance, tax rounding rules, and tax
rates with three decimals. Amounts are worked out by hand in the comments."""

import dataclasses

import peewee
import pytest

from shopkeeper.db import MIGRATIONS, SCHEMA_VERSION, _m017_tax_rate_thousandths, migrate
from shopkeeper.errors import InvalidInput
from shopkeeper.models import Payment, Product, ProductChange, Sale, SaleLine, SchemaVersion
from shopkeeper.money import parse_rate
from shopkeeper.services import sales, stock, till
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.sales import LineInput, Tender
from shopkeeper.tax import TaxRules


@pytest.fixture
def shop(db, ctx):
    save_product(ProductData(sku="MILK", name="Milk", price=129, tax_rate=7_000))
    save_product(ProductData(sku="PEN", name="Pen", price=5, tax_rate=20_000))
    stock.receive(ctx, "MILK", 50_000, 80)
    stock.receive(ctx, "PEN", 50_000, 2)
    return db


def rows(sale_id):
    return [(p.method, p.amount, p.tendered, p.change)
            for p in Payment.select().where(Payment.sale == sale_id).order_by(Payment.id)]


def balances(result):
    """The books' rule: the payments add up to total + rounding, on the sale row as on the result."""
    sale = Sale.get_by_id(result.sale_id)
    paid = sum(p.amount for p in Payment.select().where(Payment.sale == result.sale_id))
    return paid == sale.total + sale.rounding == result.paid and sale.rounding == result.rounding


MILK3 = [LineInput("MILK", 3000)]  # 3 × 1.29 = 3.87


def test_split_tender_writes_one_payment_per_tender_summing_to_the_total(ctx, shop):
    result = sales.sell(ctx, MILK3, payments=[Tender("card", 200), Tender("other", 100), Tender("cash", 500)])
    # card 2.00 + other 1.00 leave 0.87; cash 5.00 handed over gives 4.13 change
    assert rows(result.sale_id) == [("card", 200, None, None), ("other", 100, None, None), ("cash", 87, 500, 413)]
    sale = Sale.get_by_id(result.sale_id)
    assert (sale.payment, sale.total, sale.tendered, sale.change, sale.rounding) == ("split", 387, 500, 413, 0)
    assert balances(result)


def test_one_method_in_several_tenders_is_not_split(ctx, shop):
    result = sales.sell(ctx, MILK3, payments=[Tender("card", 300), Tender("card")])
    assert rows(result.sale_id) == [("card", 300, None, None), ("card", 87, None, None)]
    assert result.payment == "card"


def test_the_old_single_payment_keywords_still_work(ctx, shop):
    result = sales.sell(ctx, MILK3, payment="cash", tendered=1000)
    assert rows(result.sale_id) == [("cash", 387, 1000, 613)] and result.payment == "cash"
    assert rows(sales.sell(ctx, MILK3, payment="card").sale_id) == [("card", 387, None, None)]


@pytest.mark.parametrize(("tenders", "message"), [
    ([Tender("card", 400)], "card 4.00 is more than the 3.87 still due: change is given only from cash"),
    ([Tender("cash", 100), Tender("card", 300)], "more than the 2.87 still due"),
    ([Tender("card", 200)], "1.87 is still due"),
    ([Tender("cash", 200), Tender("other", 100)], "0.87 is still due"),
    ([Tender("card"), Tender("cash", 100)], "nothing is left to pay"),
    ([Tender("card", 0), Tender("cash")], "amount must be more than zero"),
    ([Tender("cheque")], "payment must be one of cash, card, other"),
    ([Tender("card", None, 500)], "an amount tendered only goes with cash"),
    ([Tender("cash", 300)], "less than the total 3.87"),
])
def test_change_only_from_cash_and_nothing_left_unpaid(ctx, shop, tenders, message):
    with pytest.raises(InvalidInput, match=message):
        sales.sell(ctx, MILK3, payments=tenders)
    assert Sale.select().count() == 0 and Payment.select().count() == 0
    assert Product.get(Product.sku == "MILK").on_hand == 50_000


def test_cash_rounding_to_five_cents_is_recorded_and_balances(ctx, shop):
    chf = dataclasses.replace(ctx, cash_rounding=5)
    result = sales.sell(chf, MILK3, payment="cash", tendered=2000)  # 3.87 → 3.85 in cash
    assert (result.total, result.rounding, result.paid, result.change) == (387, -2, 385, 1615)
    assert rows(result.sale_id) == [("cash", 385, 2000, 1615)] and balances(result)
    up = sales.sell(chf, [LineInput("MILK", 2000)])  # 2.58 → 2.60
    assert (up.rounding, up.paid, up.tendered, up.change) == (2, 260, 260, 0) and balances(up)


def test_a_card_payment_is_never_rounded(ctx, shop):
    result = sales.sell(dataclasses.replace(ctx, cash_rounding=5), MILK3, payment="card")
    assert (result.rounding, rows(result.sale_id)) == (0, [("card", 387, None, None)])


def test_in_a_split_only_the_cash_part_is_rounded(ctx, shop):
    chf = dataclasses.replace(ctx, cash_rounding=5)
    # card 2.00, then cash: the 1.87 still due is rounded to 1.85
    result = sales.sell(chf, MILK3, payments=[Tender("card", 200), Tender("cash")])
    assert rows(result.sale_id) == [("card", 200, None, None), ("cash", 185, 185, 0)]
    assert (result.rounding, result.payment) == (-2, "split") and balances(result)
    # cash first, part of it: nothing rounded, the card pays the exact rest
    first = sales.sell(chf, MILK3, payments=[Tender("cash", 200), Tender("card")])
    assert rows(first.sale_id) == [("cash", 200, 200, 0), ("card", 187, None, None)]
    assert first.rounding == 0 and balances(first)


def test_whole_unit_cash_rounding(ctx, shop):
    sek = dataclasses.replace(ctx, cash_rounding=100)
    result = sales.sell(sek, MILK3, payment="cash", tendered=500)  # 3.87 → 4.00
    assert (result.rounding, result.paid, result.change) == (13, 400, 100) and balances(result)


def test_refund_is_rounded_likewise_and_balances(ctx, shop):
    chf = dataclasses.replace(ctx, cash_rounding=5)
    sold = sales.sell(chf, MILK3)  # paid 3.85
    back = sales.refund(chf, sale_id=sold.sale_id)  # 3.87 back → 3.85 in cash
    assert (back.total, back.rounding, back.paid, back.payment) == (-387, 2, -385, "cash")
    assert rows(back.sale_id) == [("cash", -385, None, None)] and balances(back)


def test_a_cash_refund_gives_no_change(ctx, shop):
    sold = sales.sell(ctx, MILK3)
    with pytest.raises(InvalidInput, match="more than the 3.87 to pay back in cash"):
        sales.refund(ctx, sale_id=sold.sale_id, payments=[Tender("cash", 500)])


def test_refund_defaults_to_the_way_the_sale_was_paid(ctx, shop):
    card = sales.sell(ctx, MILK3, payment="card")
    assert rows(sales.refund(ctx, sale_id=card.sale_id).sale_id) == [("card", -387, None, None)]
    split = sales.sell(ctx, [LineInput("MILK", 4000)], payments=[Tender("card", 200), Tender("cash")])  # 5.16
    assert sales.sale_payments(split.sale_id) == [("card", 200), ("cash", 316)]
    # one back (1.29): to the card first; then the rest: the card has 0.71 left, cash the remainder
    first = sales.refund(ctx, [sales.ReturnInput("MILK", 1000)], sale_id=split.sale_id)
    assert rows(first.sale_id) == [("card", -129, None, None)]
    rest = sales.refund(ctx, sale_id=split.sale_id)
    assert rows(rest.sale_id) == [("card", -71, None, None), ("cash", -316, None, None)]
    assert rest.payment == "split" and balances(rest)
    # a refund without a receipt: cash
    assert sales.refund(ctx, [sales.ReturnInput("MILK", 1000)], reason="gift").payment == "cash"


def test_refund_method_given_overrides_the_default(ctx, shop):
    card = sales.sell(ctx, MILK3, payment="card")
    assert sales.refund(ctx, sale_id=card.sale_id, payment="cash").payment == "cash"


def test_till_complete_takes_tenders_and_a_refund_draft_defaults_to_the_original(ctx, shop):
    till.add_scan(ctx, "MILK")
    result = till.complete(ctx, [Tender("card", 100), Tender("cash", 100)])
    assert rows(result.sale_id) == [("card", 100, None, None), ("cash", 29, 100, 71)]
    till.start_refund(ctx, result.sale_id)
    back = till.complete(ctx)
    assert rows(back.sale_id) == [("card", -100, None, None), ("cash", -29, None, None)]


# --- tax rounding --------------------------------------------------------------------------------------------

def taxes(ctx, inputs):
    return [line.tax for line in sales.price_lines(ctx, inputs)]


PENS = [LineInput("PEN", 1000)] * 3  # three lines of 0.05 at 20 % incl.: 5 × 20/120 = 0.8333 each


@pytest.mark.parametrize(("rules", "expected"), [
    (TaxRules("line", "half-even"), [1, 1, 1]),  # each 0.83 → 1
    (TaxRules("sale", "half-even"), [1, 1, 0]),  # 15 × 20/120 = 2.5 → 2, shared largest remainder first
    (TaxRules("sale", "half-up"), [1, 1, 1]),  # 2.5 → 3
])
def test_tax_per_line_or_per_sale(ctx, shop, rules, expected):
    assert taxes(dataclasses.replace(ctx, tax_rules=rules), PENS) == expected


def test_tax_half_even_or_half_up_per_line(ctx, shop):
    net = dataclasses.replace(ctx, prices_include_tax=False)
    line = [LineInput(None, 1000, 25, description="Stamp", tax_rate=parse_rate("10"))]  # 0.25 × 10 % = 2.5
    assert taxes(net, line) == [2]
    assert taxes(dataclasses.replace(net, tax_rules=TaxRules("line", "half-up")), line) == [3]


def test_per_sale_rounding_keeps_rates_apart(ctx, shop):
    sale_rules = dataclasses.replace(ctx, tax_rules=TaxRules("sale"))
    lines = sales.price_lines(sale_rules, [*PENS, LineInput("MILK", 1000)])
    assert [line.tax for line in lines] == [1, 1, 0, 8]  # milk: 129 × 7/107 = 8.44 → 8, alone at its rate


def test_a_sale_at_8_875_percent(ctx, shop):
    """New York's 8.875 %, prices without tax: 10.00 → 0.8875 → 0.89; two lines of 0.40: 0.0355 each."""
    ny = dataclasses.replace(ctx, prices_include_tax=False)
    save_product(ProductData(sku="BOOK", name="Book", price=1000, tax_rate=parse_rate("8.875")))
    save_product(ProductData(sku="GUM", name="Gum", price=40, tax_rate=parse_rate("8.875")))
    assert Product.get(Product.sku == "BOOK").tax_rate == 8_875
    result = sales.sell(ny, [LineInput("BOOK", 1000)], payment="card")
    assert (result.tax, result.total) == (89, 1089)
    assert SaleLine.get(SaleLine.sale == result.sale_id).tax_rate == 8_875
    gum = [LineInput("GUM", 1000), LineInput("GUM", 1000)]
    assert taxes(ny, gum) == [4, 4]  # 3.55 → 4 each: 8
    assert taxes(dataclasses.replace(ny, tax_rules=TaxRules("sale")), gum) == [4, 3]  # 7.1 → 7


# --- the rate scale migration -----------------------------------------------------------------------------------

def test_m017_rescales_stored_tax_rates_and_keeps_history_append_only(db, ctx):
    """A database of the previous version holds basis points (700 = 7 %): after the upgrade every table reads
    thousandths of a percent (7000), and sale lines and the change log are append-only again."""
    save_product(ProductData(sku="OLD", name="Old", price=100, tax_rate=700))
    stock.receive(ctx, "OLD", 5000, 50)
    sold = sales.sell(dataclasses.replace(ctx, prices_include_tax=True), [LineInput("OLD", 1000)])
    till.add_scan(ctx, "OLD")
    rescale = MIGRATIONS.index(_m017_tax_rate_thousandths) + 1
    SchemaVersion.delete().where(SchemaVersion.version >= rescale).execute()  # as the old version left it
    assert migrate(db) == SCHEMA_VERSION
    assert Product.get(Product.sku == "OLD").tax_rate == 7_000
    assert SaleLine.get(SaleLine.sale == sold.sale_id).tax_rate == 7_000
    assert till.current_sale(ctx).lines[0].tax_rate == 7_000
    logged = ProductChange.get(ProductChange.field == "tax_rate")
    assert (logged.old, logged.new) == (None, "7000")
    for sql in ("UPDATE sale_line SET tax_rate = 1", "DELETE FROM product_change"):
        with pytest.raises(peewee.IntegrityError, match="append-only"):
            db.execute_sql(sql)
