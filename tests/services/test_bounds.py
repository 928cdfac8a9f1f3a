"""Every stored value and every sum the shop writes stays inside 64-bit integers, with a clear refusal past it."""

from __future__ import annotations

import dataclasses

import pytest

from shopkeeper.bounds import MAX_MONEY, MAX_QUANTITY
from shopkeeper.errors import InvalidInput
from shopkeeper.models import Movement, Product, Sale, database
from shopkeeper.money import parse_money, parse_qty
from shopkeeper.services import sales, stock
from shopkeeper.services.audit import check_stock
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.sales import LineInput


@pytest.fixture
def gold(db):
    return save_product(ProductData(sku="GOLD", name="Gold bar", price=MAX_MONEY))


def _nothing_written(before: int) -> None:
    assert Movement.select().count() == before
    assert Sale.select().count() == 0
    on_hand, kind = database.execute_sql("SELECT on_hand, typeof(on_hand) FROM product WHERE sku='GOLD'").fetchone()
    assert kind == "integer"


def test_parsing_refuses_values_past_the_bounds_naming_the_field():
    assert parse_qty("1000000000") == MAX_QUANTITY
    with pytest.raises(InvalidInput, match=r"quantity: 1000000000.001 is too large \(at most 1000000000\)") as exc:
        parse_qty("1000000000.001")
    assert exc.value.field == "quantity"
    assert parse_money("100000000000", 2) == MAX_MONEY
    with pytest.raises(InvalidInput, match=r"price: 100000000000.01 is too large") as exc:
        parse_money("100000000000.01", 2, what="price")
    assert exc.value.field == "price"
    with pytest.raises(InvalidInput, match="too large"):
        parse_qty("9" * 400)
    with pytest.raises(InvalidInput, match="too large"):
        parse_qty("123456789012345678901234567890123456789.5")


def test_stock_on_hand_never_leaves_the_bound(ctx, gold):
    stock.receive(ctx, gold, MAX_QUANTITY, 1)
    with pytest.raises(InvalidInput, match="GOLD: stock on hand: .* more than the shop can record") as exc:
        stock.adjust(ctx, gold, 1, "found")
    assert exc.value.field == "GOLD: stock on hand"
    _nothing_written(1)
    assert Product.get_by_id(gold.id).on_hand == MAX_QUANTITY


def test_many_large_sales_never_turn_stock_into_a_float(ctx, gold):
    ctx = dataclasses.replace(ctx, negative_stock="allow")
    for _ in range(1000):  # in thousands of sales of the largest quantity, stock would pass 2^63
        try:
            stock.adjust(ctx, gold, -MAX_QUANTITY, "lost")
        except InvalidInput:
            break
    assert Product.get_by_id(gold.id).on_hand == -MAX_QUANTITY
    assert check_stock() == (1, [])


def test_a_sale_whose_amount_is_too_large_is_refused_and_writes_nothing(ctx, gold):
    stock.receive(ctx, gold, 10_000, 1)
    with pytest.raises(InvalidInput, match=r"line 1: amount: .* more than the shop can record") as exc:
        sales.sell(ctx, [LineInput("GOLD", 2000)], payment="card")
    assert exc.value.line == 1
    with pytest.raises(InvalidInput, match=r"sale total: .* more than the shop can record"):
        sales.sell(ctx, [LineInput("GOLD", 1000), LineInput("GOLD", 1000)], payment="card")
    _nothing_written(1)


def test_a_service_caller_passing_a_huge_number_gets_a_refusal_not_a_driver_error(ctx, gold):
    with pytest.raises(InvalidInput, match="quantity"):
        stock.adjust(ctx, gold, 10**20, "found")
    with pytest.raises(InvalidInput, match="line 1: quantity"):
        sales.sell(ctx, [LineInput(None, 10**20, unit_price=1, description="x")], payment="card")
    _nothing_written(0)
