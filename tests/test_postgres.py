"""The same journal on PostgreSQL, for shops with several tills. Runs when $SHOPKEEPER_TEST_PG names a database
that may be wiped (``.ci/run`` starts a local server); skipped otherwise, except in CI, where it fails."""

from __future__ import annotations

import dataclasses
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
from shopkeeper.services import chain, chain_check, sales, stock, till
from shopkeeper.services.audit import check_stock
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.context import Context
from shopkeeper.services.tenders import Tender

URL = os.environ.get("SHOPKEEPER_TEST_PG", "")
pytestmark = [pytest.mark.requires("postgres"), pytest.mark.slow, pytest.mark.xdist_group("postgres")]  # one database: one worker at a time


@pytest.fixture
def pg():
    db = open_database(URL)
    db.execute_sql("DROP SCHEMA public CASCADE")
    db.execute_sql("CREATE SCHEMA public")
    close_database()
    db = open_database(URL)  # migrates the empty schema
    yield db
    close_database()


def test_journal_services_and_check_on_postgres(pg):
    ctx = Context(staff="pg", terminal="t1", default_tax_rate=20_000)
    save_product(ProductData(sku="MILK", name="Milk", price=129, tax_rate=7_000, barcodes=["4006381333931"]))
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
    report = chain_check.check(full=True)
    assert report.ok and report.head.positions["sale"] == 160  # four tills racing: one chain, no fork


def test_rows_sealed_from_their_values_verify_on_postgres(pg, monkeypatch):
    """PostgreSQL stores what the services bound (text, bigint, NULL) as SQLite does: a sale's and a movement's
    rows are hashed from those values at commit, never read back, and ``check --full`` re-reading them agrees."""
    monkeypatch.setattr(chain, "CROSS_CHECK", False)
    contents = chain.contents

    def no_reading(stream, ids, cursor=None):
        assert stream == "audit", f"{stream} rows {ids} were read back at seal"
        return contents(stream, ids, cursor)

    ctx = Context(staff="pg", terminal="t1", negative_stock="allow")
    save_product(ProductData(sku="A", name="A", price=199, tax_rate=7_000))
    monkeypatch.setattr(chain, "contents", no_reading)
    stock.receive(ctx, "A", 10_000, 80, reference="INV-1")
    sold = sales.sell(ctx, [sales.LineInput("A", 2000, lot="L-7", expiry="2027-01-31"),
                            sales.LineInput(None, 1000, description='Kürbis "groß" \\ 🎃', unit_price=350,
                                            tax_rate=0)],
                      discount=20, payments=[Tender("card", 100), Tender("cash", 5000)])
    sales.refund(ctx, sale_id=sold.sale_id)
    monkeypatch.setattr(chain, "contents", contents)
    report = chain_check.check(full=True)
    assert report.ok, [str(b) for b in report.breaks]
    assert report.head.positions == {"movement": 3, "sale": 2, "audit": 1}  # the sale's discount is audited


def test_two_tills_committing_out_of_id_order_extend_one_chain(pg, monkeypatch):
    """Till 1 inserts its sale first (lower ids) but commits second: the chain is sealed in commit order, under
    the chain lock, so till 2's sale comes first in the chain and till 1's follows it; nothing forks."""
    ctx = Context(staff="pg", terminal="t1", negative_stock="allow")
    for sku in ("A", "B"):
        save_product(ProductData(sku=sku, name=sku))
        stock.receive(ctx, sku, 100_000, 10)
    first_sealing, second_done = threading.Event(), threading.Event()
    tips = chain._tips

    def lock_after_the_other_till(*args, lock=False):
        if lock and threading.current_thread().name == "till-1":
            first_sealing.set()
            second_done.wait(10)
        return tips(*args, lock=lock)

    monkeypatch.setattr(chain, "_tips", lock_after_the_other_till)
    sold, errors = {}, []

    def ring(name: str, sku: str) -> None:
        if name == "till-2":
            first_sealing.wait(10)
        with database.connection_context():
            try:
                sold[name] = sales.sell(Context(staff="pg", terminal=name), [sales.LineInput(sku, 1000)],
                                        payment="card").sale_id
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append((name, exc))
            finally:
                if name == "till-2":
                    second_done.set()

    threads = [threading.Thread(target=ring, args=("till-1", "A"), name="till-1"),
               threading.Thread(target=ring, args=("till-2", "B"), name="till-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sold["till-1"] < sold["till-2"]
    order = [r[0] for r in database.execute_sql(
        "SELECT row_id FROM chain_link WHERE stream = %s ORDER BY position", (chain.STREAMS["sale"],))]
    assert order == [sold["till-2"], sold["till-1"]]
    report = chain_check.check(full=True)
    assert report.ok and report.head.positions == {"movement": 4, "sale": 2, "audit": 0}


def test_a_sale_and_a_refund_draft_of_the_same_products_do_not_deadlock(pg, monkeypatch):
    """Till 2 starts a refund of a sale of B then A (one draft line per product; each insert takes PostgreSQL's key
    share lock on its product) while till 1 sells A and B; the draft goes on once the sale is done or waits for a
    lock. The sale's row locks must not conflict with those (FOR NO KEY UPDATE, as a plain UPDATE takes), or the two
    wait for each other and one is told 'deadlock'."""
    ctx = Context(staff="pg", terminal="t1", negative_stock="allow")
    for sku in ("A", "B"):
        save_product(ProductData(sku=sku, name=sku))
        stock.receive(ctx, sku, 100_000, 10)
    sold = sales.sell(ctx, [sales.LineInput("B", 1000), sales.LineInput("A", 1000)], payment="card")

    first_line, sale_done = threading.Event(), threading.Event()
    insert = OpenSaleLine.insert

    def sale_finished_or_waits_for_a_lock() -> bool:
        database.execute_sql("SELECT pg_stat_clear_snapshot()")  # activity is otherwise read once per transaction
        waiting = database.execute_sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                       "AND datname = current_database()").fetchone()[0]
        return sale_done.is_set() or waiting > 0

    def insert_then_pause(*args, **kwargs):  # the sale arrives between the draft's two lines
        query = insert(*args, **kwargs)
        execute = query.execute

        def execute_then_pause(*a, **k):
            result = execute(*a, **k)
            if not first_line.is_set():
                first_line.set()
                deadline = time.monotonic() + 10
                while not sale_finished_or_waits_for_a_lock() and time.monotonic() < deadline:
                    sale_done.wait(0.02)
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
            finally:
                sale_done.set()

    threads = [threading.Thread(target=refund_draft), threading.Thread(target=sell)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert Sale.select().count() == 2
    assert check_stock()[1] == []


def test_init_on_postgres_records_the_currency_and_never_replaces_the_database(pg, tmp_path, capsys):
    from shopkeeper.cli import main

    close_database()
    config = tmp_path / "c.toml"
    assert main(["--config", str(config), "--db", URL, "init", "--currency", "GBP"]) == 0
    out = capsys.readouterr().out
    password = URL.split("://", 1)[1].split("@", 1)[0].partition(":")[2]
    # the password never shows: not in the URL, not on its own (where it is not also the user or database name)
    assert "(PostgreSQL)" in out and URL not in out and (not password or f":{password}@" not in out)
    user_and_db = URL.split("://", 1)[1].split("@", 1)[0].partition(":")[0], URL.rsplit("/", 1)[1]
    assert not password or password in user_and_db or password not in out
    assert main(["--config", str(config), "--db", URL, "init", "--force"]) == 2
    assert "never replaces a PostgreSQL database" in capsys.readouterr().err
    other = tmp_path / "eur.toml"
    other.write_text('[shop]\ncurrency = "EUR"\n')
    assert main(["--config", str(other), "--db", URL, "stock"]) == 2
    err = capsys.readouterr().err
    assert "says EUR with 2 decimals" in err and "keeps GBP with 2 decimals" in err
    assert main(["--config", str(config), "--db", URL, "stock"]) == 0


def test_a_nul_in_a_csv_cell_is_a_located_refusal_on_postgres(pg):
    """PostgreSQL cannot store a NUL in text: it was a traceback from the driver. The text rule refuses it first."""
    from shopkeeper.errors import InvalidInput
    from shopkeeper.services.products_csv import CsvRejected, import_products

    ctx = Context(staff="pg", terminal="t1")
    with pytest.raises(CsvRejected) as caught:
        import_products(ctx, b"sku,name\nTEA,Tea\x00bags\nJAM,Jam\n")
    assert [(e.line, e.column) for e in caught.value.errors] == [(2, "name")]
    with pytest.raises(InvalidInput) as refused:
        save_product(ProductData(sku="TEA", name="Tea\x00"))
    assert refused.value.field == "name"
    assert not Product.select().exists()


def test_a_batch_import_on_postgres_logs_counts_and_chains_every_row(pg):
    """The import's set-based writes on PostgreSQL: the change log of new products by INSERT … SELECT (an integer
    as its digits, the active flag as 1, as one save logs them), the opening counts as multi-row INSERT … RETURNING,
    every movement chained, and ``check`` passes."""
    from shopkeeper.models import Movement, ProductChange
    from shopkeeper.services.products_csv import import_products

    ctx = Context(staff="pg", terminal="t1", default_tax_rate=20_000)
    n = 2 * stock.MANY
    data = ("sku,name,price,cost,on_hand\n" + "".join(f"S{i:03d},Item {i},1.{i:02d},0.50,{i + 1}\n"
                                                        for i in range(n))).encode()
    report = import_products(ctx, data)
    assert (report.created, report.counted) == (n, n)
    save_product(ProductData(sku="ONE", name="One", price=150, avg_cost=50), default_tax_rate=20_000)
    logged = {(c.product.sku, c.field): (c.old, c.new, c.kind) for c in ProductChange.select()}
    for sku in ("S007", "ONE"):
        assert [logged[sku, name] for name in ("price", "tax_rate", "avg_cost", "unit", "active")] == [
            (None, "107" if sku == "S007" else "150", "create"), (None, "20000", "create"), (None, "50", "create"),
            (None, "pcs", "create"), (None, "1", "create")]
    assert Product.get(Product.sku == "S009").on_hand == 10_000
    assert Movement.select().count() == n
    assert check_stock()[1] == []
    report = chain_check.check(full=True)
    assert report.ok and report.head.positions["movement"] == n


def test_a_barcode_a_till_took_during_an_import_on_postgres_stops_it_naming_the_holder(pg, monkeypatch):
    """A code given to another product after the import checked its file: the unique index refuses it inside the
    batch (a savepoint keeps the transaction usable on PostgreSQL) and the import stops naming its line and holder;
    the batch left nothing, and once the code is free a rerun finishes the import."""
    from shopkeeper.services import products_csv
    from shopkeeper.services.products_csv import ImportStopped, import_products

    ctx = Context(staff="pg", terminal="t1")
    data = ("sku,name,barcode\n" + "".join(f"S{i},Item {i},{2000000000000 + 10 * i + _check(i)}\n"
                                             for i in range(20))).encode()
    code = f"{2000000000000 + 10 * 14 + _check(14)}"
    write, calls = products_csv._write_batch, []

    def a_till_takes_a_code_after_the_first_batch(*args, **kw):
        if calls:
            save_product(ProductData(sku="OTHER", name="Other", barcodes=[code]))
        calls.append(1)
        write(*args, **kw)

    monkeypatch.setattr(products_csv, "_write_batch", a_till_takes_a_code_after_the_first_batch)
    with pytest.raises(ImportStopped, match=f"line 16: S14: barcode {code} already belongs to OTHER"):
        import_products(ctx, data, source="list.csv", batch_rows=10)
    assert Product.select().count() == 11  # the first batch and OTHER
    monkeypatch.setattr(products_csv, "_write_batch", write)
    save_product(ProductData(sku="OTHER", barcodes=[]))
    assert import_products(ctx, data, source="list.csv", batch_rows=10).created == 10
    assert chain_check.check(full=True).ok


def _check(i: int) -> int:
    from shopkeeper.barcodes import check_digit

    return int(check_digit(f"{200000000000 + i:012d}"))


def test_editing_a_product_while_a_till_sells_it_keeps_the_stock(pg, monkeypatch):
    """A product edited (an import's new price) while another till sells it: the edit must not write back the stock
    it read before the sale committed. (Found by tests/test_kill9.py: `check` reported on_hand != journal.)"""
    from shopkeeper.services import catalog

    ctx = Context(staff="pg", terminal="t1")
    save_product(ProductData(sku="A", name="Apples", price=100))
    stock.receive(ctx, "A", 10_000, 10)
    sale_done = threading.Event()
    errors = []

    def sell():
        with database.connection_context():
            try:
                sales.sell(Context(staff="pg", terminal="t2"), [sales.LineInput("A", 1000)], payment="card")
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                sale_done.set()

    seller = threading.Thread(target=sell)
    utcnow = catalog.utcnow

    def sale_between_read_and_write():  # called after the product was read, before it is written
        if not seller.is_alive() and not sale_done.is_set():
            seller.start()
            deadline = time.monotonic() + 10
            while not sale_done.is_set() and time.monotonic() < deadline:
                database.execute_sql("SELECT pg_stat_clear_snapshot()")
                if database.execute_sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                        "AND datname = current_database()").fetchone()[0]:
                    break  # the sale waits for this edit's row lock: it goes on after the commit
                sale_done.wait(0.02)
        return utcnow()

    monkeypatch.setattr(catalog, "utcnow", sale_between_read_and_write)
    save_product(ProductData(sku="A", price=120))
    seller.join(30)
    assert errors == []
    product = Product.get(Product.sku == "A")
    assert (product.price, product.on_hand) == (120, 9_000)
    assert check_stock()[1] == []


def test_an_import_listing_products_out_of_id_order_does_not_deadlock_a_sale(pg, monkeypatch):
    """An import lists B, then A; a till sells A and B while the import's batch holds them. The sale locks its
    products in id order, and so does the import's batch (``catalog.save_products``): one waits for the other, and
    neither is refused. (An import locking in file order would hold B and wait for A while the sale holds A and
    waits for B, and PostgreSQL would refuse one of them; found by tests/test_kill9.py.)"""
    from shopkeeper.services import catalog, products_csv

    ctx = Context(staff="pg", terminal="t1")
    for sku in ("A", "B"):
        save_product(ProductData(sku=sku, name=sku, price=100))
        stock.receive(ctx, sku, 10_000, 10)
    sale_done = threading.Event()
    errors = []

    def sell():
        with database.connection_context():
            try:
                sales.sell(Context(staff="pg", terminal="t2"), [sales.LineInput("A", 1000), sales.LineInput("B", 1000)],
                           payment="card")
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(("sale", exc))
            finally:
                sale_done.set()

    seller = threading.Thread(target=sell)
    existing = catalog._existing

    def lock_then_let_the_sale_in(skus):
        found = existing(skus)
        if not seller.is_alive() and not sale_done.is_set():
            seller.start()
            deadline = time.monotonic() + 10
            while not sale_done.is_set() and time.monotonic() < deadline:
                database.execute_sql("SELECT pg_stat_clear_snapshot()")
                if database.execute_sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                        "AND datname = current_database()").fetchone()[0]:
                    break
                sale_done.wait(0.02)
        return found

    monkeypatch.setattr(catalog, "_existing", lock_then_let_the_sale_in)
    try:
        products_csv.import_products(ctx, b"sku,name,price\nB,B,1.10\nA,A,1.20\n")
    except Exception as exc:  # noqa: BLE001 - reported below
        errors.append(("import", exc))
    seller.join(30)
    assert errors == []
    assert [(p.sku, p.price, p.on_hand) for p in Product.select().order_by(Product.sku)] == [
        ("A", 120, 9_000), ("B", 110, 9_000)]
    assert check_stock()[1] == []


def test_two_apps_claiming_one_till_at_once_on_postgres(pg):
    """Both insert the new claim at the same moment: one holds the till, the other is told it is in use."""
    from shopkeeper.services import till_claim

    holders = [till_claim.Holder("host-a", 1, "1"), till_claim.Holder("host-b", 2, "2")]
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def claim(holder) -> None:
        with database.connection_context():
            start.wait()
            try:
                outcomes.append(till_claim.take("till-1", exact=True, holder=holder).holder.host)
            except till_claim.TillInUse:
                outcomes.append("in use")

    threads = [threading.Thread(target=claim, args=(h,)) for h in holders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[1] == "in use" and sorted(outcomes)[0] in ("host-a", "host-b")
    assert till_claim.take("till-1", exact=False, holder=till_claim.Holder("host-c", 3)).name == "till-1-2"


def _narrow_columns(db) -> list[tuple[str, str, str]]:
    return db.execute_sql(
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND data_type IN ('smallint', 'integer', 'character varying')").fetchall()


def test_postgres_columns_are_bigint_and_text_on_new_and_older_databases(pg):
    from shopkeeper.bounds import MAX_MONEY, MAX_QUANTITY
    from shopkeeper.db import _m005_bigint_text, _m032_stock_value

    assert _narrow_columns(pg) == []
    # A database made by the previous version: integer and varchar(255) columns, integer sequences, and not yet
    # the generated search text (m013), which would pin the type of name and SKU, nor the kept stock value's
    # trigger (m032), which pins those of the columns it watches.
    pg.execute_sql("ALTER TABLE product DROP COLUMN search_text")
    pg.execute_sql("DROP FUNCTION shopkeeper_stock_value() CASCADE")
    for table, column, kind in (("product", "on_hand", "integer"), ("product", "price", "integer"),
                                ("product", "sku", "varchar(255)"), ("sale", "id", "integer"),
                                ("sale", "total", "integer"), ("movement", "quantity", "integer"),
                                ("movement", "sale_id", "integer")):
        pg.execute_sql(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE {kind}')
    pg.execute_sql("ALTER SEQUENCE sale_id_seq AS integer")
    assert len(_narrow_columns(pg)) == 7
    with pg.atomic():
        _m005_bigint_text(pg)  # the step migrate() runs on such a database
        _m032_stock_value(pg)  # and a later one
    assert _narrow_columns(pg) == []

    ctx = Context(staff="pg", terminal="t1", negative_stock="allow")
    pg.execute_sql("SELECT setval('sale_id_seq', 3000000000)")  # sale numbers past 2^31
    save_product(ProductData(sku="GOLD", name="Gold", price=MAX_MONEY // 2))
    stock.receive(ctx, "GOLD", MAX_QUANTITY, 1)
    sold = sales.sell(ctx, [sales.LineInput("GOLD", 2000)], payment="card")
    assert sold.sale_id > 2**31 and sold.total == MAX_MONEY
    assert Product.get(Product.sku == "GOLD").on_hand == MAX_QUANTITY - 2000
    assert check_stock() == (1, [])
    total, average = pg.execute_sql("SELECT SUM(on_hand), AVG(on_hand) FROM product").fetchone()
    assert type(total) is int and total == MAX_QUANTITY - 2000  # a bigint sum is numeric: read back as int
    refund = sales.refund(ctx, sale_id=sold.sale_id)
    assert type(refund.total) is int and refund.total == -MAX_MONEY
    _stock_value_equals_the_products()


def test_lot_expiry_migration_upgrades_a_postgres_database_of_the_previous_version(pg):
    from shopkeeper.db import MIGRATIONS, SCHEMA_VERSION, _m006_lot_expiry, current_version
    from shopkeeper.models import Movement, SaleLine

    ctx = Context(staff="pg", terminal="t1")
    save_product(ProductData(sku="TEA", name="Tea", price=300))
    sales.sell(ctx, [sales.LineInput("TEA", 1000)])
    for table in ("open_sale_line", "sale_line", "movement"):
        pg.execute_sql(f"ALTER TABLE {table} DROP COLUMN lot, DROP COLUMN expiry")
    pg.execute_sql("DELETE FROM schema_version WHERE version > %s", (MIGRATIONS.index(_m006_lot_expiry),))
    close_database()
    db = open_database(URL)
    assert current_version(db) == SCHEMA_VERSION
    assert (SaleLine.get().lot, SaleLine.get().expiry) == (None, None)
    sale = sales.sell(ctx, [sales.LineInput("TEA", 1000, lot="B7", expiry="2027-01-31")])
    assert Movement.get(Movement.sale == sale.sale_id).expiry == "2027-01-31"


def test_every_report_ties_out_on_postgres_and_sees_a_late_commit(pg, monkeypatch):
    """The reports' SQL on PostgreSQL: the same identities as the SQLite property test, then a sale stamped inside
    an hour, a day and a span of days already kept (a till whose transaction committed late) is counted."""
    import datetime as dt
    from unittest import mock

    from shopkeeper.services import product_sales_cache, reports, stock_cache
    from tests.services.test_reports_properties import check_identities, full_replay

    monkeypatch.setattr(product_sales_cache, "MIN_DAYS", 1)  # keep spans of the few days sold here
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        ctx = Context(staff="pg", terminal="t1", default_tax_rate=20_000)
        save_product(ProductData(sku="MILK", name="Milk", price=129, tax_rate=7_000, category="Dairy"))
        save_product(ProductData(sku="OLIVES", name="Olives", unit="kg", price=1490, tax_rate=5_500))

        def at(stamp: str):
            return mock.patch.multiple("shopkeeper.services.sales", utcnow=lambda: stamp), \
                mock.patch("shopkeeper.services.stock.utcnow", lambda: stamp)

        def when(stamp: str, call):
            patch_sales, patch_stock = at(stamp)
            with patch_sales, patch_stock:
                return call()

        when("2026-03-09T08:00:00.000000Z", lambda: stock.receive(ctx, "MILK", 50_000, 80))
        when("2026-03-09T08:00:00.000000Z", lambda: stock.receive(ctx, "OLIVES", 5_000, 820))
        first = when("2026-03-09T22:59:00.000000Z", lambda: sales.sell(ctx, [  # 23:59 in Paris
            sales.LineInput("MILK", 3000), sales.LineInput("OLIVES", 250),
            sales.LineInput(None, 1000, unit_price=500, description="Gift wrap")], payment="card"))
        # 00:01, split: 1.00 on card, the 1.58 left rounds to 1.60 in cash, paid with 5.00 (3.40 change)
        when("2026-03-09T23:01:00.000000Z", lambda: sales.sell(
            dataclasses.replace(ctx, cash_rounding=5), [sales.LineInput("MILK", 2000)],
            payments=[Tender("card", 100), Tender("cash", 500)]))
        when("2026-03-10T09:00:00.000000Z", lambda: sales.refund(ctx, [sales.ReturnInput("MILK", 1000)],
                                                                 sale_id=first.sale_id))
        when("2026-03-10T10:00:00.000000Z", lambda: stock.adjust(ctx, "MILK", -1000, "damaged"))
        when("2026-03-10T11:00:00.000000Z", lambda: stock.count(ctx, "OLIVES", 4_500))
        days = reports.run("sales", reports.Options(start=dt.date(2026, 3, 9), end=dt.date(2026, 3, 11)))
        assert [r["sales"] for r in days.table("periods").rows] == [1, 1, 0]  # local days, not UTC ones
        paid = {r["payment"]: (r["sales"], r["taken"], r["refunds"], r["rounding"]) for r in days.table("payment").rows}
        assert paid == {"card": (2, 1259 + 100, -129, 0), "cash": (1, 160, 0, 2)}  # each tender to its method
        check_identities(dt.date(2026, 3, 9), dt.date(2026, 3, 11))
        marks = "SELECT boundary, rows_from_anchor FROM journal_mark ORDER BY boundary"
        assert pg.execute_sql(marks).fetchall() == [("2026-02-01T00:00:00.000000Z", 0),
                                                    ("2026-04-01T00:00:00.000000Z", 8)]  # the journal's months kept
        assert pg.execute_sql("SELECT boundary FROM stock_mark").fetchall() == [("2026-03-01T00:00:00.000000Z",)]
        when("2026-03-10T09:30:00.000000Z", lambda: sales.sell(ctx, [sales.LineInput("MILK", 1000)]))
        check_identities(dt.date(2026, 3, 9), dt.date(2026, 3, 11))  # the late movement drops them
        late = reports.run("sales", reports.Options(start=dt.date(2026, 3, 10), end=dt.date(2026, 3, 10)))
        assert late.table("periods").total["sales"] == 2
        spans = pg.execute_sql("SELECT sale_rows FROM product_sales_span WHERE first_day = %s AND end_day = %s",
                               ((dt.date(2026, 3, 9) - dt.date(1970, 1, 1)).days,
                                (dt.date(2026, 3, 11) - dt.date(1970, 1, 1)).days)).fetchall()
        assert spans == [(4,)]  # the kept span of 9 and 10 March, summed again with the late sale
        for name in reports.REPORTS:
            assert reports.run(name, reports.Options(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31))).tables
        # a receipt stamped before the kept month start commits late: the stock kept at March 1st is dropped
        when("2026-02-27T08:00:00.000000Z", lambda: stock.receive(ctx, "MILK", 10_000, 95))
        at = reports.Options(at=dt.date(2026, 3, 11))
        kept = reports.run("valuation", at).tables
        assert pg.execute_sql("SELECT on_hand FROM stock_kept").fetchall() == [(10_000,)]  # and kept afresh
        assert reports.run("valuation", at).tables == kept
        stock_cache.enabled = False
        try:
            assert reports.run("valuation", at).tables == kept
        finally:
            stock_cache.enabled = True
        moment = reports.local_start(dt.date(2026, 3, 12))
        assert reports.stock_at(moment) == full_replay(moment)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_slow_movers_and_abc_value_and_rank_the_same_on_postgres(pg):
    """slow-movers values and sorts in SQL (half to even, as ``money.extend``), abc ranks in Python: on PostgreSQL
    as on SQLite."""
    from shopkeeper.services import reports

    ctx = Context(staff="pg", terminal="t1")
    for sku in ("HALF", "EVEN", "SOLD"):
        save_product(ProductData(sku=sku, name=sku, price=1000))
    stock.receive(ctx, "HALF", 1500, 333)  # 499.5 → 500
    stock.receive(ctx, "EVEN", 2500, 1)  # 2.5 → 2
    stock.receive(ctx, "SOLD", 5000, 100)
    sales.sell(ctx, [sales.LineInput("SOLD", 1000)], payment="card")
    slow = reports.run("slow-movers", reports.Options()).table("products")
    assert [(r["sku"], r["value"], r["last_sale"]) for r in slow.rows] == [("HALF", 500, "never"), ("EVEN", 2, "never")]
    assert (slow.total["on_hand"], slow.total["value"]) == (4000, 502)
    abc = reports.run("abc", reports.Options()).table("products").rows
    assert [(r["sku"], r["class"], r["share"], r["cumulative"]) for r in abc] == [
        ("SOLD", "A", 10_000, 10_000), ("HALF", "C", 0, 10_000), ("EVEN", "C", 0, 10_000)]


def test_opening_counts_stay_out_of_shrinkage_and_worst_sellers_count_past_the_limit_on_postgres(pg):
    """The opening-count rule (a correlated NOT EXISTS in a CASE) and the worst sellers' count past ``--limit``
    run as SQL on PostgreSQL too."""
    from shopkeeper.services import reports
    from shopkeeper.services.products_csv import import_products

    ctx = Context(staff="pg", terminal="t1")
    import_products(ctx, b"sku,name,price,cost,on_hand\nJAM,Jam,3.20,1.60,18\nMUG,Mug,8.00,3.00,6\n")
    stock.adjust(ctx, "JAM", -1000, "damaged")
    stock.count(ctx, "JAM", 16_000)
    shrink = reports.run("shrinkage", reports.Options(limit=0))
    assert {r["reason"]: r["units"] for r in shrink.table("reasons").rows} == {"count variance": -1000,
                                                                                "damaged": -1000}
    worst = reports.run("worst-sellers", reports.Options(limit=1)).table("products")
    assert [r["sku"] for r in worst.rows] == ["MUG"] and worst.total["name"] == "all 2 products"
def test_worst_sellers_and_shrinkage_rank_and_round_the_same_on_postgres(pg):
    """worst-sellers counts the unsold from the partial index of inactive products and reads the highest ids
    first; shrinkage values each movement in SQL (half to even) and sums by product: on PostgreSQL as on SQLite."""
    from shopkeeper.services import reports

    ctx = Context(staff="pg", terminal="t1")
    for sku in ("A", "B", "C", "OFF"):
        save_product(ProductData(sku=sku, name=sku, price=1000))
        stock.receive(ctx, sku, 9000, 333)
    sales.sell(ctx, [sales.LineInput("A", 1000)], payment="card")
    save_product(ProductData(sku="OFF", name="OFF", price=1000, active=False))
    worst = reports.run("worst-sellers", reports.Options(limit=1)).table("products")
    assert [r["sku"] for r in worst.rows] == ["C"] and worst.total["name"] == "all 3 products"
    stock.adjust(ctx, "B", -1500, "damaged")  # 499.5 → 500
    stock.adjust(ctx, "B", -2500, "stolen")  # 832.5 → 832
    stock.adjust(ctx, "C", 1000, "found")
    shrink = reports.run("shrinkage", reports.Options()).table("products")
    assert [(r["sku"], r["units"], r["cost"]) for r in shrink.rows] == [("B", -4000, -1332), ("C", 1000, 333)]


def test_a_receipt_committing_after_the_stock_was_kept_at_a_month_start_is_counted_on_postgres(pg, monkeypatch):
    """A till's receipt stamped in February is written but not committed while a report keeps the stock at March
    1st; it commits afterwards. Its chain link is only made at commit, past the kept position: the mark is dropped,
    and the valuation equals the journal replayed in id order."""
    import datetime as dt

    from shopkeeper.db import write_transaction
    from shopkeeper.services import reports, stock_cache
    from tests.services.test_reports_properties import full_replay

    stamps = {"MainThread": "2026-02-10T10:00:00.000000Z", "till-2": "2026-02-20T10:00:00.000000Z"}
    monkeypatch.setattr(stock, "utcnow", lambda: stamps[threading.current_thread().name])
    monkeypatch.setattr(sales, "utcnow", lambda: stamps[threading.current_thread().name])
    ctx = Context(staff="pg", terminal="t1")
    for sku in ("A", "B"):
        save_product(ProductData(sku=sku, name=sku, price=300))
        stock.receive(ctx, sku, 10_000, 100)
    written, commit = threading.Event(), threading.Event()
    errors = []

    def till() -> None:
        with database.connection_context():
            try:
                with write_transaction():
                    stock.receive(Context(staff="pg", terminal="t2"), "A", 10_000, 300)
                    written.set()
                    commit.wait(10)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    other = threading.Thread(target=till, name="till-2")
    other.start()
    assert written.wait(10)
    stamps["MainThread"] = "2026-03-03T10:00:00.000000Z"
    sales.sell(ctx, [sales.LineInput("B", 1000)], payment="card")  # committed first, with a later id
    at = reports.Options(at=dt.date(2026, 3, 5))
    before = reports.run("valuation", at).table("category").total
    assert before["on_hand"] == 19_000
    assert pg.execute_sql("SELECT boundary FROM stock_mark").fetchall() == [("2026-03-01T00:00:00.000000Z",)]
    commit.set()
    other.join(30)
    assert errors == []
    after = reports.run("valuation", at).tables
    assert after[0].total["on_hand"] == 29_000 and after[0].total["cost"] == 20 * 200 + 9 * 100
    stock_cache.enabled = False
    try:
        assert reports.run("valuation", at).tables == after
    finally:
        stock_cache.enabled = True
    moment = reports.local_start(dt.date(2026, 3, 6))
    assert reports.stock_at(moment) == full_replay(moment)


def test_figures_kept_ahead_on_postgres_count_a_sale_that_commits_after_them(pg, monkeypatch):
    """The maintenance (``report_upkeep``) keeps the closed days while a till's sale stamped in one of them is
    written but not committed; it commits afterwards. Every report still equals a full recomputation, before and
    after the next maintenance run."""
    from shopkeeper.db import write_transaction
    from shopkeeper.services import report_upkeep
    from tests.services.test_report_upkeep import build_shop, every_report, recomputed

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        ctx = Context(staff="pg", terminal="t1", default_tax_rate=20_000)
        build_shop(ctx)
        monkeypatch.setattr(stock, "utcnow", lambda: "2026-03-05T10:00:00.000000Z")
        monkeypatch.setattr(sales, "utcnow", lambda: "2026-03-05T10:00:00.000000Z")
        written, commit = threading.Event(), threading.Event()
        errors = []

        def till_2() -> None:
            with database.connection_context():
                try:
                    with write_transaction():
                        sales.sell(Context(staff="pg", terminal="t2"), [sales.LineInput("B", 4000)],
                                   payment="card")
                        written.set()
                        commit.wait(30)
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

        other = threading.Thread(target=till_2)
        other.start()
        assert written.wait(10)
        report_upkeep.keep_closed_days()
        assert pg.execute_sql("SELECT COUNT(*) FROM journal_mark").fetchone()[0] == 5
        assert pg.execute_sql("SELECT COUNT(*) FROM stock_mark").fetchone()[0] == 3
        commit.set()
        other.join(30)
        assert errors == []
        kept = every_report()
        assert kept == recomputed()
        assert kept[1][0].total["units"] == 17_000  # the year's best sellers: the late sale's 4 units in
        report_upkeep.keep_closed_days()
        assert every_report() == kept
    finally:
        monkeypatch.undo()
        time.tzset()


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


def test_two_sessions_opening_one_till_at_once_get_one_draft_on_postgres(pg, monkeypatch):
    """Both find no open sale and both insert one: the unique partial index refuses the second, which then works
    on the first's draft."""
    from shopkeeper.models import OpenSale

    ctx = Context(staff="pg", terminal="t1")
    till.current_sale(ctx, create=False)  # the staff and till rows exist before the race
    both_looked = threading.Barrier(2, timeout=10)
    real_create = OpenSale.create

    def create_after_both_looked(**fields):
        both_looked.wait()
        return real_create(**fields)

    monkeypatch.setattr(OpenSale, "create", create_after_both_looked)
    drafts: list[int] = []

    def open_till() -> None:
        with database.connection_context():
            drafts.append(till.current_sale(ctx).id)

    threads = [threading.Thread(target=open_till) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(drafts) == 2 and drafts[0] == drafts[1]
    assert OpenSale.select().where(OpenSale.status == "open").count() == 1


def test_stock_filter_on_postgres_is_case_insensitive_and_indexed(pg):
    from shopkeeper.services.queries import StockQuery, stock_ids, stock_window

    indexes = {r[0] for r in pg.execute_sql("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}
    assert {"product_search_trgm", "barcode_code_pattern", "product_name",
            "open_sale_one_open_per_till"} <= indexes
    save_product(ProductData(sku="BUT-1", name="Butter 250 g", barcodes=["4006381333931"]))
    save_product(ProductData(sku="ÄPF-1", name="Äpfel_rot 100%"))
    save_product(ProductData(sku="brot", name="bread"))
    assert [r.sku for r in stock_window(StockQuery("buTT"), 0, 10)] == ["BUT-1"]
    assert [r.sku for r in stock_window(StockQuery("äpf"), 0, 10)] == ["ÄPF-1"]  # not only ASCII
    assert [r.sku for r in stock_window(StockQuery("L_ROT 100%"), 0, 10)] == ["ÄPF-1"]  # _ and % are literal
    assert [r.sku for r in stock_window(StockQuery("40063813"), 0, 10)] == ["BUT-1"]  # a barcode prefix
    assert [r.sku for r in stock_window(StockQuery("b", sort="name"), 0, 10)] == ["brot", "BUT-1"]
    by_sku = StockQuery("b", sort="sku", descending=True)
    assert [r.sku for r in stock_window(by_sku, 0, 10)] == ["brot", "BUT-1"]
    assert stock_ids(StockQuery(sort="name")) == [r.id for r in stock_window(StockQuery(sort="name"), 0, 10)]


def test_a_broad_barcode_prefix_on_postgres_finds_the_same_rows_in_the_same_order(pg, monkeypatch):
    from tests.services.test_queries import (
        _shop_with_a_broad_barcode_prefix,
        assert_broad_prefix_window_matches_the_id_lookup,
    )

    _shop_with_a_broad_barcode_prefix()
    assert_broad_prefix_window_matches_the_id_lookup(monkeypatch)


def test_the_stock_filter_searches_the_stored_name_and_sku_on_an_upgraded_postgres_database(pg):
    """m013 adds ``product.search_text`` to a database of the previous version (two trigram indexes, no column):
    the filter finds name and SKU through it, follows an edit, and never matches across the name/SKU join."""
    from shopkeeper.db import MIGRATIONS, SCHEMA_VERSION, _m013_product_search_text, current_version
    from shopkeeper.services.queries import StockQuery, stock_ids, stock_window

    save_product(ProductData(sku="TEA-1", name="Green Tea"))
    pg.execute_sql("DROP INDEX product_search_trgm")
    pg.execute_sql("ALTER TABLE product DROP COLUMN search_text")
    pg.execute_sql("DELETE FROM schema_version WHERE version > %s", (MIGRATIONS.index(_m013_product_search_text),))
    close_database()
    db = open_database(URL)
    assert current_version(db) == SCHEMA_VERSION
    indexes = {r[0] for r in db.execute_sql("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}
    assert "product_search_trgm" in indexes and not {"product_name_trgm", "product_sku_trgm"} & indexes
    assert [r.sku for r in stock_window(StockQuery("GREEN t"), 0, 10)] == ["TEA-1"]
    assert [r.sku for r in stock_window(StockQuery("a-1"), 0, 10)] == ["TEA-1"]
    save_product(ProductData(sku="TEA-1", name="Black Tea"))
    assert stock_window(StockQuery("green"), 0, 10) == []
    assert [r.sku for r in stock_window(StockQuery("black"), 0, 10)] == ["TEA-1"]
    assert stock_window(StockQuery("tea\ntea"), 0, 10) == [] == stock_ids(StockQuery("tea\ntea"))


def test_split_tender_cash_rounding_and_the_rate_rescale_on_postgres(pg):
    """Payments as rows, rounding recorded so they balance; m017 drops and recreates the append-only triggers
    around its rescale inside its transaction, so sale lines and the change log are protected again after it."""
    from shopkeeper.db import SCHEMA_VERSION, migrate
    from shopkeeper.models import Payment, ProductChange, SaleLine, SchemaVersion

    ctx = Context(staff="pg", terminal="t1", cash_rounding=5)
    save_product(ProductData(sku="MILK", name="Milk", price=129, tax_rate=700))  # basis points, as before m017
    stock.receive(ctx, "MILK", 10_000, 80)
    sold = sales.sell(ctx, [sales.LineInput("MILK", 3000)], payments=[sales.Tender("card", 200),
                                                                     sales.Tender("cash", 500)])
    paid = [(p.method, p.amount, p.tendered, p.change) for p in Payment.select().where(Payment.sale == sold.sale_id)
            .order_by(Payment.id)]
    assert paid == [("card", 200, None, None), ("cash", 185, 500, 315)]
    sale = Sale.get_by_id(sold.sale_id)
    assert (sale.payment, sale.rounding, sum(p[1] for p in paid)) == ("split", -2, sale.total + sale.rounding)
    from shopkeeper.db import MIGRATIONS, _m017_tax_rate_thousandths

    rescale = MIGRATIONS.index(_m017_tax_rate_thousandths) + 1
    SchemaVersion.delete().where(SchemaVersion.version >= rescale).execute()  # as the version before it left it
    assert migrate(pg) == SCHEMA_VERSION
    assert Product.get(Product.sku == "MILK").tax_rate == 7_000
    assert SaleLine.get(SaleLine.sale == sold.sale_id).tax_rate == 7_000
    assert ProductChange.get(ProductChange.field == "tax_rate").new == "7000"
    for sql in ("UPDATE sale_line SET tax_rate = 1", "DELETE FROM product_change", "DELETE FROM payment"):
        with pytest.raises(peewee.DatabaseError, match="append-only"):
            with pg.atomic():
                pg.execute_sql(sql)


def _ordering_shop(ctx, orders: int = 1):
    """Milk and butter from a dairy; ``orders`` sent orders of 10 of each, and one draft of milk."""
    from shopkeeper.services import ordering, suppliers

    suppliers.create_supplier(ctx, suppliers.SupplierData(name="Dairy"))
    for sku in ("MILK", "BUTTER"):
        save_product(ProductData(sku=sku, name=sku.title()))
        suppliers.link_product(ctx, sku, "Dairy", pack_size=1_000, pack_cost=80)
    sent = []
    for _ in range(orders):
        order = ordering.create_order(ctx, "Dairy")
        ordering.add_line(ctx, order.id, "MILK", quantity=10_000)
        ordering.add_line(ctx, order.id, "BUTTER", quantity=10_000)
        ordering.send_order(ctx, order.id)
        sent.append(order.id)
    draft = ordering.create_order(ctx, "Dairy")
    ordering.add_line(ctx, draft.id, "MILK", quantity=1_000)
    return sent, draft.id


def test_the_purchase_order_history_is_append_only_on_postgres(pg):
    _ordering_shop(Context(staff="pg", terminal="t1"))
    for sql in ("UPDATE purchase_order_event SET status = 'cancelled'", "DELETE FROM purchase_order_event"):
        with pytest.raises(peewee.DatabaseError, match="append-only"):
            with pg.atomic():
                pg.execute_sql(sql)


def test_the_books_balance_and_match_the_valuation_on_postgres(pg):
    """The books export's SQL on PostgreSQL: the same transactions as on SQLite, inventory equal to the valuation."""
    from shopkeeper.services import books, books_format, reports
    from tests.books_shop import DAY1, DAY2, seed

    seed(Context(staff="tester", terminal="till-1"))
    result = books.build(DAY1, DAY2)
    assert [t.reference for t in result.transactions] == ["day:2026-11-02", "z:till-1:1", "day:2026-11-03"]
    assert result.balances()["Assets:Inventory"] == reports.valuation(reports.Options(at=DAY2)).table(
        "category").total["cost"]
    assert result.balances()["Expenses:Cash-Over-Short"] == 50
    text = books_format.write(result, "csv", currency="EUR", decimals=2)
    assert text == books_format.write(books.build(DAY1, DAY2), "csv", currency="EUR", decimals=2)
def test_tills_receiving_and_editing_orders_at_once_lose_no_update_on_postgres(pg):
    """Two tills receive the two lines of the same orders at once while a third edits a draft of the same product:
    every order ends received (each till's status check sees the other's line: the order row is locked first), and
    the on-order figure is what the lines say (the product rows are locked before the figure is recomputed, so the
    recompute sees the other till's commit)."""
    from shopkeeper.models import PurchaseOrderLine
    from shopkeeper.services import ordering

    sent, draft = _ordering_shop(Context(staff="pg", terminal="t1"), orders=12)
    start = threading.Barrier(3)
    errors = []

    def work(name: str, job) -> None:
        with database.connection_context():
            try:
                start.wait(10)
                ctx = Context(staff="pg", terminal=name)
                for n, order in enumerate(sent):
                    job(ctx, n, order)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    jobs = [lambda ctx, n, order: ordering.receive_against(ctx, order, [("MILK", 10_000, None)]),
            lambda ctx, n, order: ordering.receive_against(ctx, order, [("BUTTER", 10_000, None)]),
            lambda ctx, n, order: ordering.set_line(ctx, draft, 1, quantity=(n + 2) * 1_000)]
    threads = [threading.Thread(target=work, args=(f"t{n}", job)) for n, job in enumerate(jobs, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert {o.status for o in ordering.list_orders() if o.id in sent} == {"received"}
    assert PurchaseOrderLine.select().where(PurchaseOrderLine.order.in_(sent)
                                            & (PurchaseOrderLine.received != 10_000)).count() == 0
    milk, butter = Product.get(Product.sku == "MILK"), Product.get(Product.sku == "BUTTER")
    assert (milk.on_hand, milk.on_order, butter.on_hand, butter.on_order) == (120_000, 13_000, 120_000, 0)
    assert check_stock()[1] == []


def test_two_po_draft_runs_at_once_make_one_draft_per_supplier_on_postgres(pg):
    """The morning timer and a person running ``po draft`` at the same moment: the suppliers are locked before the
    suggestions are read, so the second run sees the first one's drafts on order and adds nothing."""
    from shopkeeper.models import PurchaseOrder
    from shopkeeper.services import ordering, suppliers

    ctx = Context(staff="pg", terminal="t1")
    for n in range(3):
        suppliers.create_supplier(ctx, suppliers.SupplierData(name=f"S{n}"))
        save_product(ProductData(sku=f"P{n}", name=f"P{n}", reorder_point=5_000, reorder_qty=10_000, supplier=f"S{n}"))
        suppliers.link_product(ctx, f"P{n}", f"S{n}", pack_size=1_000, pack_cost=100)
    start = threading.Barrier(2)
    errors = []

    def run(name: str) -> None:
        with database.connection_context():
            try:
                start.wait(10)
                ordering.draft_orders(Context(staff="pg", terminal=name))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"t{n}",)) for n in (2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert PurchaseOrder.select().where(PurchaseOrder.status == "draft").count() == 3
    assert sorted(p.on_order for p in Product.select()) == [10_000, 10_000, 10_000]


def test_reorder_points_are_learned_the_same_on_postgres(pg, monkeypatch):
    """The recompute query (grouped by product and hour, read by created_at) and the bulk update on PostgreSQL:
    the same figures as on SQLite, censoring included; manual products untouched; low by inventory position."""
    from shopkeeper.services import reorder
    from tests.test_demand import SETTINGS, TODAY, history, point

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        ctx = Context(staff="pg", terminal="t1")
        history(ctx, "ALWAYS", [20] * 56, opening=5000)
        history(ctx, "HALF", [20] * 56, opening=28 * 20)
        history(ctx, "SLOW", [1 if i % 9 == 0 else 0 for i in range(56)], opening=50)
        history(ctx, "TYPED", [20] * 56, opening=5000)
        reorder.set_manual(ctx, Product.get(Product.sku == "TYPED"), 7000, 12_000)
        result = reorder.recompute(ctx, settings=SETTINGS, today=TODAY)
        assert (result.products, result.changed) == (3, 3)
        assert point("ALWAYS") == point("HALF") == (80_000, 100_000, "auto")
        assert point("SLOW")[0] in (1000, 2000)
        assert point("TYPED") == (7000, 12_000, "manual")
        assert reorder.recompute(ctx, settings=SETTINGS, today=TODAY).changed == 0
        assert {line.sku for line in reorder.low_stock()} == {"HALF"}  # sold out; ALWAYS has 3,880 left
        Product.update(on_order=100_000).where(Product.sku == "HALF").execute()
        assert reorder.low_stock() == [] and reorder.suggestions(ctx) == []
    finally:
        monkeypatch.undo()
        time.tzset()


def test_two_processes_opening_one_till_at_once_get_one_session_on_postgres(pg, monkeypatch):
    """Both find no open session and both take number 1: the unique (till, number) index refuses the second insert
    once the first commits, and its retry sees the session open and refuses clearly. Another till numbers its own."""
    from shopkeeper.errors import InvalidInput
    from shopkeeper.models import TillSession
    from shopkeeper.services import till_session
    from shopkeeper.services.context import staff_id, terminal_id

    ctx = Context(staff="pg", terminal="t1")
    staff_id(ctx), terminal_id(ctx)  # the staff and till rows exist before the race
    both_looked = threading.Barrier(2, timeout=10)
    real_insert = TillSession.insert

    def insert_after_both_looked(*args, **fields):
        query = real_insert(*args, **fields)
        execute = query.execute

        def execute_after_both_looked(*a, **k):
            both_looked.wait()
            return execute(*a, **k)

        query.execute = execute_after_both_looked
        return query

    monkeypatch.setattr(TillSession, "insert", insert_after_both_looked)
    opened, refused = [], []

    def open_till(amount: int) -> None:
        with database.connection_context():
            try:
                opened.append(till_session.open(ctx, amount).number)
            except InvalidInput as exc:
                refused.append(exc.reason)

    threads = [threading.Thread(target=open_till, args=(amount,)) for amount in (1000, 2000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert opened == [1] and refused == ["already open"]
    assert TillSession.select().count() == 1
    monkeypatch.setattr(TillSession, "insert", real_insert)
    assert till_session.open(Context(staff="pg", terminal="t2"), 0).number == 1


def test_till_sessions_and_their_close_are_append_only_on_postgres(pg):
    from shopkeeper.models import CashMovement, TillSession, TillSessionClose
    from shopkeeper.services import till_session

    ctx = Context(staff="pg", terminal="t1")
    till_session.open(ctx, 1000)
    till_session.cash_out(ctx, 100, "petty cash")
    report = till_session.close(ctx, 850)
    assert report.over_short == -50 and till_session.z_report(ctx, 1)["over_short"] == -50
    for query in (TillSession.update(float_amount=0), TillSessionClose.update(counted_cash=0),
                  CashMovement.delete(), TillSessionClose.delete()):
        with pytest.raises(peewee.DatabaseError), database.atomic():
            query.execute()


def test_a_sale_completed_while_the_till_closes_is_in_no_session_or_in_its_z_report(pg, monkeypatch):
    """The close holds the session row while it adds up; a sale completing at that moment waits, then finds the
    session closed and names none — it is never left out of the Z report of a session it names."""
    from shopkeeper.services import till_session

    ctx = Context(staff="pg", terminal="t1", negative_stock="allow")
    save_product(ProductData(sku="A", name="A", price=250))
    session = till_session.open(ctx, 1000)
    till.add_scan(ctx, "A")
    closing, sale_done = threading.Event(), threading.Event()
    real_figures = till_session._figures

    def figures_then_wait_for_the_sale(*args, **kwargs):
        figures = real_figures(*args, **kwargs)  # added up; the close is not yet written
        closing.set()
        deadline = time.monotonic() + 10
        while not sale_done.is_set() and time.monotonic() < deadline:
            database.execute_sql("SELECT pg_stat_clear_snapshot()")
            waiting = database.execute_sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                           "AND datname = current_database()").fetchone()[0]
            if waiting:
                break
            sale_done.wait(0.02)
        return figures

    monkeypatch.setattr(till_session, "_figures", figures_then_wait_for_the_sale)
    results: dict[str, object] = {}

    def close() -> None:
        with database.connection_context():
            results["z"] = till_session.close(ctx, 1000)

    def sell() -> None:
        closing.wait(10)
        with database.connection_context():
            results["sale"] = till.complete(ctx, "cash")
        sale_done.set()

    threads = [threading.Thread(target=close), threading.Thread(target=sell)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    sale = Sale.get_by_id(results["sale"].sale_id)
    assert results["z"].sales == 0 and results["z"].expected_cash == 1000
    assert sale.till_session is None and session.id


def test_training_copy_of_a_postgresql_shop_is_a_sqlite_file_and_leaves_the_shop_alone(pg):
    from shopkeeper.services import training

    ctx = Context(staff="pg", terminal="t1")
    save_product(ProductData(sku="A", name="A", price=250))
    stock.receive(ctx, "A", 5000, 100)
    done = training.prepare(URL)
    assert done.created and done.path.suffix == ".db" and done.path.name.startswith("training-")
    open_database(str(done.path))
    assert training.active() and Product.get(Product.sku == "A").on_hand == 5000
    sales.sell(Context(staff="trainee"), [sales.LineInput("A", 2000)], payment="card")
    close_database()
    open_database(URL)
    assert Product.get(Product.sku == "A").on_hand == 5000 and Sale.select().count() == 0


def test_check_says_when_an_append_only_trigger_is_dropped_or_disabled_on_postgres(pg):
    from shopkeeper.db import unprotected

    assert unprotected(pg) == []
    pg.execute_sql("ALTER TABLE sale DISABLE TRIGGER sale_append_only")
    pg.execute_sql("DROP TRIGGER audit_event_append_only ON audit_event")
    assert unprotected(pg) == ["sale: UPDATE, DELETE", "audit_event: UPDATE, DELETE"]


def _stock_value_equals_the_products() -> None:
    """The kept groups equal the products summed here (in Python: exact past BIGINT too)."""
    from shopkeeper.money import extend
    from shopkeeper.services import stock_value

    want: dict[tuple, list[int]] = {}
    for p in Product.select():
        acc = want.setdefault((p.category, p.supplier_id), [0, 0, 0, 0])
        for i, v in enumerate((1 if p.on_hand else 0, p.on_hand, extend(p.on_hand, p.avg_cost),
                               extend(p.on_hand, p.price))):
            acc[i] += v
    assert {(c, s): list(v) for c, s, *v in stock_value.groups()[0]} == want


def test_two_tills_changing_products_of_the_same_groups_at_once_neither_wait_nor_deadlock_on_postgres(pg):
    """Till 1 changes a product of group X then one of group Y in one transaction, till 2 one of Y then one of X,
    both half-way at once: the kept stock value (``services/stock_value.py``) only appends rows, so neither waits
    for the other (a trigger updating one row per group would have them lock X and Y in opposite orders: one is
    told 'deadlock detected'). Meanwhile a fold takes only the committed rows; the figures stay exact."""
    from shopkeeper.services import stock_value

    ctx = Context(staff="pg", terminal="t1")
    for sku, category in (("X1", "X"), ("X2", "X"), ("Y1", "Y"), ("Y2", "Y")):
        save_product(ProductData(sku=sku, name=sku, category=category, price=250))
        stock.receive(ctx, sku, 10_000, 77)
    step = threading.Barrier(3, timeout=10)  # the two tills and the fold go on together
    errors = []

    def till(first: str, then: str) -> None:
        with database.connection_context():
            try:
                with database.atomic():
                    database.execute_sql("UPDATE product SET on_hand = on_hand - 1500 WHERE sku = %s", (first,))
                    step.wait()
                    database.execute_sql("UPDATE product SET on_hand = on_hand - 2500, avg_cost = 81 "
                                         "WHERE sku = %s", (then,))
                    step.wait()  # both tills have changed both groups; neither has committed
                    step.wait()  # the fold is done
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    def fold_meanwhile() -> None:
        with database.connection_context():
            try:
                step.wait()
                step.wait()
                stock_value.fold()  # while both tills hold rows not yet committed: it takes the others only
                step.wait()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=till, args=("X1", "Y1")), threading.Thread(target=till, args=("Y2", "X2")),
               threading.Thread(target=fold_meanwhile)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and not any(thread.is_alive() for thread in threads)
    assert database.execute_sql("SELECT COUNT(*) FROM stock_value").fetchone()[0] == 2 + 4  # folded + 4 changes
    _stock_value_equals_the_products()
    assert {p.sku: p.on_hand for p in Product.select()} == {"X1": 8_500, "X2": 7_500, "Y1": 7_500, "Y2": 8_500}
    stock_value.fold()
    _stock_value_equals_the_products()


def test_the_stock_value_migration_fills_the_kept_groups_on_an_older_postgres_shop(pg):
    from shopkeeper.db import MIGRATIONS, SCHEMA_VERSION, _m032_stock_value, current_version

    ctx = Context(staff="pg", terminal="t1")
    save_product(ProductData(sku="A", name="A", price=199, category="Dairy", supplier="Acme"))
    save_product(ProductData(sku="KG", name="KG", price=2390, unit="kg"))
    stock.receive(ctx, "A", 2_500, 77)
    pg.execute_sql("DROP TABLE stock_value")
    pg.execute_sql("DROP FUNCTION shopkeeper_stock_value() CASCADE")  # and the triggers: as the older version was
    pg.execute_sql("DELETE FROM schema_version WHERE version > %s", (MIGRATIONS.index(_m032_stock_value),))
    stock.receive(ctx, "KG", 1_237, 333)
    close_database()
    db = open_database(URL)
    assert current_version(db) == SCHEMA_VERSION
    _stock_value_equals_the_products()
    sales.sell(ctx, [sales.LineInput("KG", 333), sales.LineInput("A", 1000)], payment="card")
    save_product(ProductData(sku="A", category="Bakery", supplier=""))
    _stock_value_equals_the_products()


def test_tills_fold_the_kept_stock_value_now_and_then_on_postgres(pg, monkeypatch):
    from shopkeeper.services import stock_value

    monkeypatch.setattr(stock_value, "FOLD_EVERY", 3)
    monkeypatch.setattr(stock_value, "_commits", [0])
    ctx = Context(staff="pg", terminal="t1")
    save_product(ProductData(sku="A", name="A", price=199, category="Dairy"))
    save_product(ProductData(sku="B", name="B", price=500))
    for n in range(12):
        stock.receive(ctx, "AB"[n % 2], 1_000, 50 + n)
    # folded at the last third commit: one row a group, and since then at most two commits of two rows (a receipt
    # changes the average cost, then the stock)
    assert database.execute_sql("SELECT COUNT(*) FROM stock_value").fetchone()[0] <= 2 + 2 * 2
    _stock_value_equals_the_products()
