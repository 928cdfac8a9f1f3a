"""Property: any sequence of stock operations keeps the cached stock equal to the journal, and every refused
operation changes nothing."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopkeeper.db import close_database, open_database
from shopkeeper.errors import ShopError
from shopkeeper.models import Product
from shopkeeper.services import sales, stock
from shopkeeper.services.audit import check_stock
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.context import Context

SKUS = ["A", "B", "C"]
qty = st.integers(1, 5_000)
op = st.one_of(
    st.tuples(st.just("receive"), st.sampled_from(SKUS), qty, st.integers(0, 500)),
    st.tuples(st.just("adjust"), st.sampled_from(SKUS), st.integers(-3_000, 3_000),
              st.sampled_from(["damaged", "found", "", "bogus"])),
    st.tuples(st.just("count"), st.sampled_from(SKUS), st.integers(0, 8_000)),
    st.tuples(st.just("sell"), st.lists(st.tuples(st.sampled_from(SKUS), qty), min_size=1, max_size=3)),
    st.tuples(st.just("refund"), st.integers(1, 10), st.sampled_from(SKUS), qty),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op, max_size=25), policy=st.sampled_from(["allow", "warn", "refuse"]))
def test_random_operations_keep_check_clean(ops, policy):
    with tempfile.TemporaryDirectory() as tmp:
        open_database(str(Path(tmp) / "shop.db"))
        try:
            ctx = dataclasses.replace(Context(staff="p", terminal="t"), negative_stock=policy)
            for sku in SKUS:
                save_product(ProductData(sku=sku, name=sku, price=199, tax_rate=20_000))
            for step in ops:
                before = {p.sku: p.on_hand for p in Product.select()}
                try:
                    if step[0] == "receive":
                        stock.receive(ctx, step[1], step[2], step[3])
                    elif step[0] == "adjust":
                        stock.adjust(ctx, step[1], step[2], step[3])
                    elif step[0] == "count":
                        stock.count(ctx, step[1], step[2])
                    elif step[0] == "sell":
                        sales.sell(ctx, [sales.LineInput(sku, q) for sku, q in step[1]], payment="card")
                    else:
                        sales.refund(ctx, [sales.ReturnInput(step[2], step[3])], sale_id=step[1])
                except ShopError:
                    assert {p.sku: p.on_hand for p in Product.select()} == before
                if policy == "refuse" and step[0] == "sell":
                    assert all(p.on_hand >= 0 or before[p.sku] < 0 for p in Product.select())
                assert check_stock()[1] == []
        finally:
            close_database()
