import dataclasses

import pytest

from shopkeeper.errors import InvalidInput, NotFound
from shopkeeper.models import Movement, Product, Sale, SaleLine
from shopkeeper.services import sales, stock
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.sales import LineInput, ReturnInput


@pytest.fixture
def shop(db, ctx):
    save_product(ProductData(sku="MILK", name="Milk", price=129, tax_rate=7_000, barcodes=["4006381333931"]))
    save_product(ProductData(sku="OLIVES", name="Olives", unit="kg", price=1490, tax_rate=7_000))
    stock.receive(ctx, "MILK", 20_000, 80)
    stock.receive(ctx, "OLIVES", 5_000, 820)
    return db


def on_hand(sku):
    return Product.get(Product.sku == sku).on_hand


def test_sale_commits_lines_movements_and_cost_of_goods(ctx, shop):
    result = sales.sell(ctx, [LineInput("4006381333931", 3000), LineInput("OLIVES", 250)], payment="cash",
                        tendered=1000)
    assert result.total == 387 + 372 and result.change == 1000 - 759
    assert on_hand("MILK") == 17_000 and on_hand("OLIVES") == 4_750
    moves = list(Movement.select().where(Movement.sale == result.sale_id).order_by(Movement.id))
    assert [(m.kind, m.quantity, m.unit_cost, m.unit_price) for m in moves] == [
        ("sale", -3000, 80, 129), ("sale", -250, 820, 1490)]
    lines = list(SaleLine.select().where(SaleLine.sale == result.sale_id).order_by(SaleLine.line_no))
    assert [line.unit_cost for line in lines] == [80, 820]
    assert sum(line.total for line in lines) == Sale.get_by_id(result.sale_id).total


def test_sale_is_all_or_nothing(ctx, shop):
    with pytest.raises(NotFound):
        sales.sell(ctx, [LineInput("MILK", 1000), LineInput("NO-SUCH", 1000)])
    refuse = dataclasses.replace(ctx, negative_stock="refuse")
    with pytest.raises(Exception, match="OLIVES"):
        sales.sell(refuse, [LineInput("MILK", 1000), LineInput("OLIVES", 99_000)])
    assert Sale.select().count() == 0
    assert Movement.select().where(Movement.kind == "sale").count() == 0
    assert on_hand("MILK") == 20_000


def test_tax_inclusive_and_exclusive(ctx, shop):
    inc = sales.sell(ctx, [LineInput("MILK", 10_000)], payment="card")
    assert (inc.total, inc.tax) == (1290, 84)  # 1290 × 7/107 = 84.39
    exc = sales.sell(dataclasses.replace(ctx, prices_include_tax=False), [LineInput("MILK", 10_000)],
                     payment="card")
    assert (exc.subtotal, exc.tax, exc.total) == (1290, 90, 1380)


def test_discounts_add_up_to_the_cent(ctx, shop):
    result = sales.sell(ctx, [LineInput("MILK", 1000, discount=29), LineInput("OLIVES", 1000)], discount=101,
                        payment="card")
    assert result.subtotal == 100 + 1490
    assert result.total == 100 + 1490 - 101
    assert sum(line.discount for line in result.lines) == 29 + 101


def test_payment_rules(ctx, shop):
    with pytest.raises(InvalidInput, match="less than the total"):
        sales.sell(ctx, [LineInput("MILK")], payment="cash", tendered=100)
    with pytest.raises(InvalidInput, match="only goes with cash"):
        sales.sell(ctx, [LineInput("MILK")], payment="card", tendered=500)
    with pytest.raises(InvalidInput, match="payment must be one of"):
        sales.sell(ctx, [LineInput("MILK")], payment="cheque")
    assert sales.sell(ctx, [LineInput("MILK")]).change == 0  # exact cash by default


def test_one_off_item_needs_description_and_price(ctx, shop):
    with pytest.raises(InvalidInput, match="one-off"):
        sales.sell(ctx, [LineInput(None, 1000)])
    result = sales.sell(ctx, [LineInput(None, 1000, unit_price=500, description="Gift wrap")])
    assert result.total == 500 and result.tax == 83  # default tax 20 %
    assert Movement.select().where(Movement.sale == result.sale_id).count() == 0


def test_return_against_a_sale_never_more_than_sold(ctx, shop):
    sale = sales.sell(ctx, [LineInput("MILK", 3000)])
    sales.refund(ctx, [ReturnInput("MILK", 2000)], sale_id=sale.sale_id)
    with pytest.raises(InvalidInput, match="only 1 can be returned"):
        sales.refund(ctx, [ReturnInput("MILK", 2000)], sale_id=sale.sale_id)
    last = sales.refund(ctx, sale_id=sale.sale_id)  # the rest
    assert on_hand("MILK") == 20_000
    refunded = sum(s.total for s in Sale.select().where(Sale.original == sale.sale_id))
    assert refunded == -sale.total
    assert last.kind == "return"
    with pytest.raises(InvalidInput, match="already been returned"):
        sales.refund(ctx, sale_id=sale.sale_id)


def test_returned_goods_go_back_at_the_cost_they_left_at(ctx, shop):
    sale = sales.sell(ctx, [LineInput("MILK", 1000)])
    stock.receive(ctx, "MILK", 19_000, 120)
    sales.refund(ctx, sale_id=sale.sale_id)
    m = Movement.select().where(Movement.kind == "return").get()
    assert (m.quantity, m.unit_cost) == (1000, 80)


def test_return_of_a_product_not_on_the_sale_is_refused(ctx, shop):
    sale = sales.sell(ctx, [LineInput("MILK", 1000)])
    with pytest.raises(InvalidInput, match="OLIVES was not sold on sale"):
        sales.refund(ctx, [ReturnInput("OLIVES", 100)], sale_id=sale.sale_id)
    with pytest.raises(NotFound):
        sales.refund(ctx, sale_id=9999)


def test_return_without_receipt_needs_a_reason(ctx, shop):
    with pytest.raises(InvalidInput, match="needs a reason"):
        sales.refund(ctx, [ReturnInput("MILK", 1000)])
    result = sales.refund(ctx, [ReturnInput("MILK", 1000)], reason="customer had no receipt")
    assert result.total == -129 and on_hand("MILK") == 21_000


def test_inactive_products_are_not_sold(ctx, shop):
    save_product(ProductData(sku="MILK", active=False))
    with pytest.raises(InvalidInput, match="inactive"):
        sales.sell(ctx, [LineInput("MILK")])


def test_partial_refunds_pay_back_exactly_the_tax_collected(ctx, shop):
    save_product(ProductData(sku="A", name="A", price=100, tax_rate=20_000))
    stock.receive(ctx, "A", 10_000, 50)
    sold = sales.sell(ctx, [LineInput("A", 3000)])
    assert (sold.total, sold.tax) == (300, 50)
    refunds = [sales.refund(ctx, [ReturnInput("A", 1000)], sale_id=sold.sale_id) for _ in range(3)]
    assert sum(r.total for r in refunds) == -300
    assert sum(r.tax for r in refunds) == -50


def test_refund_of_two_lines_of_one_product_keeps_the_moving_average_right(ctx, shop):
    save_product(ProductData(sku="CHEESE", name="Cheese", price=500, tax_rate=0))
    stock.receive(ctx, "CHEESE", 20_000, 100)
    sold = sales.sell(ctx, [LineInput("CHEESE", 5_000), LineInput("CHEESE", 5_000, discount=10)])
    stock.receive(ctx, "CHEESE", 10_000, 300)  # 10 at 1.00 + 10 at 3.00: average 2.00
    sales.refund(ctx, sale_id=sold.sale_id)  # 10 back at 1.00 → 30 at 5.00/30 = 1.67
    assert Product.get(Product.sku == "CHEESE").avg_cost == 167


def test_part_of_a_one_off_line_can_be_refunded(ctx, shop):
    sold = sales.sell(ctx, [LineInput("MILK", 1000), LineInput(None, 3000, unit_price=500, description="Gift wrap")])
    back = sales.refund(ctx, [ReturnInput(None, 1000, description="Gift wrap")], sale_id=sold.sale_id)
    assert back.total == -500 and Movement.select().where(Movement.kind == "return").count() == 0
    with pytest.raises(InvalidInput, match="Gift wrap: only 2 can be returned"):
        sales.refund(ctx, [ReturnInput(None, 3000, description="Gift wrap")], sale_id=sold.sale_id)
