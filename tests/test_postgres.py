"""The same journal on PostgreSQL, for shops with several tills. Runs when $SHOPKEEPER_TEST_PG names a database
that may be wiped (``.ci/run`` starts a local server when PostgreSQL is installed); skipped otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import peewee
import pytest

from shopkeeper.db import close_database, open_database
from shopkeeper.models import OpenSaleLine, Product, Sale, database
from shopkeeper.services import sales, stock, till
from shopkeeper.services.audit import check_stock
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.context import Context

URL = os.environ.get("SHOPKEEPER_TEST_PG", "")
pytestmark = [pytest.mark.skipif(not URL, reason="set SHOPKEEPER_TEST_PG to a PostgreSQL URL to run"),
              pytest.mark.slow, pytest.mark.xdist_group("postgres")]  # one database: one worker at a time


@pytest.fixture
def pg():
    pytest.importorskip("psycopg2")
    db = open_database(URL)
    db.execute_sql("DROP SCHEMA public CASCADE")
    db.execute_sql("CREATE SCHEMA public")
    close_database()
    db = open_database(URL)  # migrates the empty schema
    yield db
    close_database()


def test_journal_services_and_check_on_postgres(pg):
    ctx = Context(staff="pg", terminal="t1", default_tax_rate=2000)
    save_product(ProductData(sku="MILK", name="Milk", price=129, tax_rate=700, barcodes=["4006381333931"]))
    stock.receive(ctx, "MILK", 10_000, 80)
    stock.receive(ctx, "MILK", 10_000, 100)
    assert Product.get(Product.sku == "MILK").avg_cost == 90
    sold = sales.sell(ctx, [sales.LineInput("4006381333931", 3000)], payment="cash", tendered=1000)
    assert (sold.total, sold.change) == (387, 613)
    assert sales.refund(ctx, sale_id=sold.sale_id).total == -387
    variance, _ = stock.count(ctx, "MILK", 19_000)
    assert variance.variance == -1000
    assert check_stock() == (1, [])


def test_postgres_refuses_to_rewrite_the_journal(pg):
    ctx = Context(staff="pg", terminal="t1")
    save_product(ProductData(sku="A", name="A"))
    stock.receive(ctx, "A", 1000, 1)
    for sql in ("UPDATE movement SET quantity = 5", "DELETE FROM movement"):
        with pytest.raises(peewee.DatabaseError, match="append-only"):
            with pg.atomic():
                pg.execute_sql(sql)


SELLER = textwrap.dedent("""
    import sys
    from shopkeeper.db import open_database
    from shopkeeper.services.context import Context
    from shopkeeper.services.sales import LineInput, sell
    open_database(sys.argv[1])
    ctx = Context(staff="s", terminal=sys.argv[2], negative_stock="allow")
    lines = [LineInput("A", 1000), LineInput("B", 2000)]
    for _ in range(int(sys.argv[3])):
        sell(ctx, lines if sys.argv[4] == "AB" else lines[::-1], payment="card")
""")


def test_four_tills_on_postgres_lose_no_update(pg):
    """Two tills ring up A then B, two ring up B then A: rows are locked in one order, so no till is ever told
    'deadlock detected'."""
    ctx = Context(staff="pg", terminal="t1")
    save_product(ProductData(sku="A", name="A"))
    save_product(ProductData(sku="B", name="B"))
    stock.receive(ctx, "A", 1_000_000, 10)
    stock.receive(ctx, "B", 1_000_000, 10)
    procs = [subprocess.Popen([sys.executable, "-c", SELLER, URL, f"till-{n}", "40", "AB" if n % 2 else "BA"],
                              stderr=subprocess.PIPE, text=True) for n in range(4)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert Product.get(Product.sku == "A").on_hand == 1_000_000 - 160 * 1000
    assert Product.get(Product.sku == "B").on_hand == 1_000_000 - 160 * 2000
    assert Sale.select().count() == 160
    assert check_stock()[1] == []


def test_a_sale_and_a_refund_draft_of_the_same_products_do_not_deadlock(pg, monkeypatch):
    """Till 2 starts a refund of a sale of B then A (one draft line per product; each insert takes PostgreSQL's key
    share lock on its product) while till 1 sells A and B. The sale's row locks must not conflict with those
    (FOR NO KEY UPDATE, as a plain UPDATE takes), or the two wait for each other and one is told 'deadlock'."""
    ctx = Context(staff="pg", terminal="t1", negative_stock="allow")
    for sku in ("A", "B"):
        save_product(ProductData(sku=sku, name=sku))
        stock.receive(ctx, sku, 100_000, 10)
    sold = sales.sell(ctx, [sales.LineInput("B", 1000), sales.LineInput("A", 1000)], payment="card")

    first_line = threading.Event()
    insert = OpenSaleLine.insert

    def insert_then_pause(*args, **kwargs):  # the sale arrives between the draft's two lines
        query = insert(*args, **kwargs)
        execute = query.execute

        def execute_then_pause(*a, **k):
            result = execute(*a, **k)
            if not first_line.is_set():
                first_line.set()
                time.sleep(0.5)
            return result

        query.execute = execute_then_pause
        return query

    monkeypatch.setattr(OpenSaleLine, "insert", insert_then_pause)
    errors = []

    def refund_draft():
        with database.connection_context():
            try:
                till.start_refund(Context(staff="pg", terminal="t2"), sold.sale_id)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(("refund draft", exc))

    def sell():
        first_line.wait(10)
        with database.connection_context():
            try:
                sales.sell(ctx, [sales.LineInput("A", 1000), sales.LineInput("B", 1000)], payment="card")
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(("sale", exc))

    threads = [threading.Thread(target=refund_draft), threading.Thread(target=sell)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert Sale.select().count() == 2
    assert check_stock()[1] == []


def test_a_product_import_racing_sales_loses_no_stock_update(pg):
    """A price list imported while two tills sell the same products: each save writes only the columns it changes
    (never the cached stock it read a moment earlier), so every sale's stock change survives and `check` is clean."""
    from shopkeeper.services.products_csv import import_products

    ctx = Context(staff="pg", terminal="office", negative_stock="allow")
    for sku in ("A", "B"):
        save_product(ProductData(sku=sku, name=sku, price=100))
        stock.receive(ctx, sku, 1_000_000, 10)
    procs = [subprocess.Popen([sys.executable, "-c", SELLER, URL, f"till-{n}", "60", "AB" if n % 2 else "BA"],
                              stderr=subprocess.PIPE, text=True) for n in range(2)]
    imports = 0
    while any(proc.poll() is None for proc in procs) or imports < 5:
        price = 100 + imports
        csv = f"sku,name,price,on_hand\nA,A,{price},1\nB,B,{price},1\n".encode()
        import_products(ctx, csv, source="prices.csv", ignore_stock=True)
        imports += 1
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert Sale.select().count() == 120
    assert Product.get(Product.sku == "A").on_hand == 1_000_000 - 120 * 1000
    assert Product.get(Product.sku == "B").on_hand == 1_000_000 - 120 * 2000
    assert check_stock()[1] == []


def test_the_product_change_log_is_append_only_on_postgres(pg):
    ctx = Context(staff="pg", terminal="t1")
    save_product(ProductData(sku="A", name="A", price=100), ctx=ctx)
    save_product(ProductData(sku="A", price=120, avg_cost=50), ctx=ctx)
    kinds = [(r[0], r[1]) for r in pg.execute_sql(
        "SELECT field, kind FROM product_change WHERE old IS NOT NULL ORDER BY id").fetchall()]
    assert kinds == [("price", "edit"), ("avg_cost", "revaluation")]
    for sql in ("UPDATE product_change SET new = '1'", "DELETE FROM product_change"):
        with pytest.raises(peewee.DatabaseError, match="append-only"):
            with pg.atomic():
                pg.execute_sql(sql)


def test_a_price_change_at_another_till_moves_the_data_version_on_postgres(pg):
    """The screens poll data_version to refresh; on PostgreSQL a price change moves no stock, yet a product screen
    open at another till must see it."""
    from shopkeeper.db import data_version

    save_product(ProductData(sku="A", name="A", price=100))
    before = data_version()
    save_product(ProductData(sku="A", price=120))
    assert data_version() != before
