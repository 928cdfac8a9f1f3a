"""The same journal on PostgreSQL, for shops with several tills. Runs when $SHOPKEEPER_TEST_PG names a database
that may be wiped (``.ci/run`` starts a local server); skipped otherwise, except in CI, where it fails."""

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
from shopkeeper.services import chain, chain_check, sales, stock, till
from shopkeeper.services.audit import check_stock
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.context import Context

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
    report = chain_check.check(full=True)
    assert report.ok and report.head.positions["sale"] == 160  # four tills racing: one chain, no fork


def test_two_tills_committing_out_of_id_order_extend_one_chain(pg, monkeypatch):
    """Till 1 inserts its sale first (lower ids) but commits second: the chain is sealed in commit order, under
    the chain lock, so till 2's sale comes first in the chain and till 1's follows it; nothing forks."""
    ctx = Context(staff="pg", terminal="t1", negative_stock="allow")
    for sku in ("A", "B"):
        save_product(ProductData(sku=sku, name=sku))
        stock.receive(ctx, sku, 100_000, 10)
    first_sealing, second_done = threading.Event(), threading.Event()
    lock = chain._lock

    def lock_after_the_other_till(*args):
        if threading.current_thread().name == "till-1":
            first_sealing.set()
            second_done.wait(10)
        return lock(*args)

    monkeypatch.setattr(chain, "_lock", lock_after_the_other_till)
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
    """An import updates B, then A; a till sells A and B between the two rows. The sale locks its products in id
    order; an import that locked them in file order would hold B and wait for A while the sale holds A and waits for
    B, and PostgreSQL would refuse one of them. (Found by tests/test_kill9.py.)"""
    from shopkeeper.services import products_csv

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
    save = products_csv.save_product

    def save_then_let_the_sale_in(data, **kw):
        product = save(data, **kw)
        if not seller.is_alive() and not sale_done.is_set():  # after the first row (B)
            seller.start()
            deadline = time.monotonic() + 10
            while not sale_done.is_set() and time.monotonic() < deadline:
                database.execute_sql("SELECT pg_stat_clear_snapshot()")
                if database.execute_sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                        "AND datname = current_database()").fetchone()[0]:
                    break
                sale_done.wait(0.02)
        return product

    monkeypatch.setattr(products_csv, "save_product", save_then_let_the_sale_in)
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
    from shopkeeper.db import _m005_bigint_text

    assert _narrow_columns(pg) == []
    # A database made by the previous version: integer and varchar(255) columns, integer sequences, and not yet
    # the generated search text (m013), which would pin the type of name and SKU.
    pg.execute_sql("ALTER TABLE product DROP COLUMN search_text")
    for table, column, kind in (("product", "on_hand", "integer"), ("product", "price", "integer"),
                                ("product", "sku", "varchar(255)"), ("sale", "id", "integer"),
                                ("sale", "total", "integer"), ("movement", "quantity", "integer"),
                                ("movement", "sale_id", "integer")):
        pg.execute_sql(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE {kind}')
    pg.execute_sql("ALTER SEQUENCE sale_id_seq AS integer")
    assert len(_narrow_columns(pg)) == 7
    with pg.atomic():
        _m005_bigint_text(pg)  # the step migrate() runs on such a database
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
    an hour and a day already kept (a till whose transaction committed late) is counted."""
    import datetime as dt
    from unittest import mock

    from shopkeeper.services import reports
    from tests.services.test_reports_properties import check_identities

    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        ctx = Context(staff="pg", terminal="t1", default_tax_rate=2000)
        save_product(ProductData(sku="MILK", name="Milk", price=129, tax_rate=700, category="Dairy"))
        save_product(ProductData(sku="OLIVES", name="Olives", unit="kg", price=1490, tax_rate=550))

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
        when("2026-03-09T23:01:00.000000Z", lambda: sales.sell(ctx, [sales.LineInput("MILK", 2000)]))  # 00:01
        when("2026-03-10T09:00:00.000000Z", lambda: sales.refund(ctx, [sales.ReturnInput("MILK", 1000)],
                                                                 sale_id=first.sale_id))
        when("2026-03-10T10:00:00.000000Z", lambda: stock.adjust(ctx, "MILK", -1000, "damaged"))
        when("2026-03-10T11:00:00.000000Z", lambda: stock.count(ctx, "OLIVES", 4_500))
        days = reports.run("sales", reports.Options(start=dt.date(2026, 3, 9), end=dt.date(2026, 3, 11)))
        assert [r["sales"] for r in days.table("periods").rows] == [1, 1, 0]  # local days, not UTC ones
        check_identities(dt.date(2026, 3, 9), dt.date(2026, 3, 11))
        when("2026-03-10T09:30:00.000000Z", lambda: sales.sell(ctx, [sales.LineInput("MILK", 1000)]))
        check_identities(dt.date(2026, 3, 9), dt.date(2026, 3, 11))
        late = reports.run("sales", reports.Options(start=dt.date(2026, 3, 10), end=dt.date(2026, 3, 10)))
        assert late.table("periods").total["sales"] == 2
        for name in reports.REPORTS:
            assert reports.run(name, reports.Options(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31))).tables
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
