"""A deadlock or serialization failure (PostgreSQL ends one of two clashing transactions) is retried inside the
service: the whole unit of work runs again, and the cashier never sees it."""

from __future__ import annotations

import peewee
import pytest

from shopkeeper.db import CLASH_ATTEMPTS, DatabaseBusy
from shopkeeper.models import Movement, OpenSale, Product, Sale
from shopkeeper.services import sales, stock, till
from shopkeeper.services.catalog import ProductData, save_product


@pytest.fixture
def milk(db, ctx):
    save_product(ProductData(sku="MILK", name="Milk", price=129, barcodes=["4006381333931"]))
    stock.receive(ctx, "MILK", 10_000, 80)


def clash_first(monkeypatch, times: int = 1) -> list[int]:
    """``sales._write_sale`` meets a deadlock ``times`` times, after writing part of the sale."""
    calls: list[int] = []
    real = sales._write_sale

    def write(*args, **kwargs):
        calls.append(1)
        result = real(*args, **kwargs)
        if len(calls) <= times:
            raise peewee.OperationalError("deadlock detected")
        return result

    monkeypatch.setattr(sales, "_write_sale", write)
    return calls


def test_a_sale_that_met_a_deadlock_is_sold_once_on_the_retry(milk, ctx, monkeypatch):
    calls = clash_first(monkeypatch)
    result = sales.sell(ctx, [sales.LineInput("MILK", 2000)], payment="card")
    assert len(calls) == 2
    assert Sale.select().count() == 1 and result.sale_id == Sale.get().id
    assert Product.get(Product.sku == "MILK").on_hand == 8_000
    assert Movement.select().where(Movement.kind == "sale").count() == 1


def test_paying_reruns_the_whole_payment_after_a_deadlock(milk, ctx, monkeypatch):
    till.add_scan(ctx, "4006381333931")
    calls = clash_first(monkeypatch)
    result = till.complete(ctx, "card")
    assert len(calls) == 2
    assert Sale.select().count() == 1 and result.total == 129
    assert OpenSale.select().count() == 0
    assert Product.get(Product.sku == "MILK").on_hand == 9_000


def test_clashes_past_the_last_attempt_are_refused_with_nothing_saved(milk, ctx, monkeypatch):
    till.add_scan(ctx, "4006381333931")
    calls = clash_first(monkeypatch, times=CLASH_ATTEMPTS)
    with pytest.raises(DatabaseBusy, match="another till") as caught:
        till.complete(ctx, "card")
    assert caught.value.reason == "clashed"
    assert len(calls) == CLASH_ATTEMPTS
    assert Sale.select().count() == 0 and OpenSale.select().count() == 1
    assert Product.get(Product.sku == "MILK").on_hand == 10_000
