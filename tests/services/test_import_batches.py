"""Imports write in short transactions: tills sell between batches, and an interrupted import is finished by
running the same file again."""

from __future__ import annotations

import sqlite3

import pytest

from shopkeeper.errors import InvalidInput
from shopkeeper.models import Barcode, CountSession, ImportRun, Movement, Product, ProductChange
from shopkeeper.services import products_csv, stock
from shopkeeper.services.audit import check_stock
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.products_csv import CsvRejected, ImportStopped, import_products


def ean(i: int) -> str:
    from shopkeeper.barcodes import check_digit

    stem = f"200{i:09d}"
    return stem + check_digit(stem)


def catalogue(n: int, *, price: str = "1.50") -> bytes:
    return ("sku,name,barcode,price,cost,on_hand\n" + "".join(
        f"S{i:04d},Item {i},{ean(i)},{price},0.50,{i % 7}\n" for i in range(n))).encode()


def test_an_import_writes_in_batches_and_lets_go_of_the_database_between_them(db_path, db, ctx):
    taken, batches = [], []
    write = products_csv._write_batch

    def batch_then_another_writer(*args, **kw):
        write(*args, **kw)
        batches.append(len(args[2]))
        # between batches another connection (a till) takes the write lock at once: it would wait 0.1 s at most
        till = sqlite3.connect(db_path, timeout=0.1, isolation_level=None)
        try:
            till.execute("BEGIN IMMEDIATE")
            taken.append(till.execute("SELECT count(*) FROM product").fetchone()[0])
            till.execute("ROLLBACK")
        finally:
            till.close()

    products_csv._write_batch = batch_then_another_writer
    try:
        report = import_products(ctx, catalogue(25), batch_rows=10)
    finally:
        products_csv._write_batch = write
    assert batches == [10, 10, 5]
    assert taken == [10, 20, 25]  # each batch committed on its own
    assert (report.created, report.updated, report.counted) == (25, 0, 25)
    assert Product.get(Product.sku == "S0006").on_hand == 6_000
    assert CountSession.get(CountSession.id == report.count_session).status == "posted"
    assert Barcode.select().count() == 25
    assert check_stock()[1] == []
    run = ImportRun.get()
    assert (run.rows_total, run.rows_done, run.finished_at is not None) == (25, 25, True)


def test_an_interrupted_import_is_finished_by_running_the_same_file_again(db, ctx):
    data = catalogue(25)
    write = products_csv._write_batch
    calls = []

    def power_cut_after_two_batches(*args, **kw):
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process dies: nothing after the second batch is stored
        calls.append(1)
        write(*args, **kw)

    products_csv._write_batch = power_cut_after_two_batches
    try:
        with pytest.raises(KeyboardInterrupt):
            import_products(ctx, data, batch_rows=10)
    finally:
        products_csv._write_batch = write
    assert Product.select().count() == 20
    session = CountSession.get()
    assert session.status == "importing"  # nobody posts or cancels it meanwhile
    with pytest.raises(InvalidInput, match="already importing"):
        stock.post_count(ctx, session)
    [run] = products_csv.import_runs.unfinished()
    assert (run.rows_done, run.rows_total, run.last_line) == (20, 25, 21)

    stock.adjust(ctx, "S0003", -1_000, "damaged")  # the shop goes on meanwhile
    report = import_products(ctx, data, batch_rows=10)
    assert report.resumed is not None and report.resumed.rows_done == 20
    assert (report.created, report.counted) == (5, 5)  # the stored rows were not redone
    assert Product.select().count() == 25
    assert Product.get(Product.sku == "S0003").on_hand == 2_000  # the damage is not counted away
    assert Product.get(Product.sku == "S0024").on_hand == 3_000
    assert CountSession.get().status == "posted" and CountSession.select().count() == 1
    assert products_csv.import_runs.unfinished() == []
    assert check_stock()[1] == []


def test_a_barcode_a_till_takes_meanwhile_stops_the_import_at_its_line_and_a_rerun_finishes(db, ctx):
    data = catalogue(25)
    write = products_csv._write_batch
    calls = []

    def till_takes_a_code_after_the_first_batch(*args, **kw):
        if len(calls) == 1:
            save_product(ProductData(sku="OTHER", name="Other", barcodes=[ean(14)]))
        calls.append(1)
        write(*args, **kw)

    products_csv._write_batch = till_takes_a_code_after_the_first_batch
    try:
        with pytest.raises(ImportStopped) as stopped:
            import_products(ctx, data, source="list.csv", batch_rows=10)
    finally:
        products_csv._write_batch = write
    assert str(stopped.value).startswith(f"list.csv: import stopped at line 16: S0014: barcode {ean(14)} already "
                                         "belongs to OTHER. The rows before it are stored")
    assert Product.select().count() == 11  # the first batch and OTHER; the failed batch left nothing
    save_product(ProductData(sku="OTHER", barcodes=[]))
    report = import_products(ctx, data, source="list.csv", batch_rows=10)
    assert report.resumed is not None and report.created == 15
    assert Product.select().count() == 26


def test_a_bad_file_changes_nothing_and_is_checked_before_any_batch(db, ctx):
    save_product(ProductData(sku="HOLDER", name="Holder", barcodes=[ean(24)]))
    data = catalogue(25) + b"S0003,Again,,1.00,,\n"
    with pytest.raises(CsvRejected) as rejected:
        import_products(ctx, data, batch_rows=10)
    assert [str(e) for e in rejected.value.errors] == [
        f"line 26, column barcode: barcode {ean(24)} already belongs to HOLDER",
        "line 27, column sku: duplicate SKU S0003 (first on line 5)"]
    assert Product.select().count() == 1
    assert ImportRun.select().count() == 0 and Movement.select().count() == 0


def test_a_batch_logs_every_change_as_one_save_would(db, ctx):
    import_products(ctx, catalogue(3))
    report = import_products(ctx, catalogue(3, price="1.75"))
    assert (report.created, report.updated) == (0, 3)
    changes = [(c.product.sku, c.field, c.old, c.new, c.kind) for c in
               ProductChange.select().where(ProductChange.kind == "import").order_by(ProductChange.id)]
    assert changes == [(f"S000{i}", "price", "150", "175", "import") for i in range(3)]
    created = ProductChange.select().where(ProductChange.kind == "create").count()
    assert created == 3 * 5  # price, tax rate, average cost, unit, active of each new product


def test_a_supplier_column_is_compared_by_name_for_the_whole_batch(db, ctx):
    data = b"sku,name,supplier\nA,Apple,Hill Farm\nB,Bread,Corner Bakery\n"
    import_products(ctx, data)
    report = import_products(ctx, b"sku,name,supplier\nA,Apple,Hill Farm\nB,Bread,Hill Farm\n")
    assert (report.created, report.updated) == (0, 2)
    assert {p.sku: p.supplier.name for p in Product.select()} == {"A": "Hill Farm", "B": "Hill Farm"}


def _shop_as_stored() -> dict[str, list[tuple]]:
    """What a shop stores for its products, ids left out: products, barcodes, the change log, the journal, and
    the chain over the journal (in chain order)."""
    from shopkeeper.models import database

    sku = {p.id: p.sku for p in Product.select(Product.id, Product.sku)}
    return {
        "products": sorted((p.sku, p.name, p.unit, p.price, p.tax_rate, p.avg_cost, p.reorder_point, p.reorder_qty,
                            p.category, p.active, p.on_hand, p.reorder_mode) for p in Product.select()),
        "barcodes": sorted((sku[b.product_id], b.code) for b in Barcode.select()),
        "changes": [(sku[c.product_id], c.field, c.old, c.new, c.kind) for c in
                    ProductChange.select().order_by(ProductChange.id)],
        "movements": [(sku[m.product_id], m.kind, m.quantity, m.unit_cost, m.reason) for m in
                      Movement.select().order_by(Movement.id)],
        "chain": [(stream, position, sku[product_id]) for stream, position, product_id in database.execute_sql(
            "SELECT l.stream, l.position, m.product_id FROM chain_link l JOIN movement m ON m.id = l.row_id "
            "ORDER BY l.stream, l.position")],
    }


def test_a_batch_stores_what_one_save_and_one_count_per_row_would(tmp_path, ctx):
    """A batch of many rows (set-based: ``catalog.save_prepared``, ``stock.post_movements`` from ``MANY`` entries
    on) stores the same products, barcodes, change log, count movements and chain as the same rows saved and
    counted one at a time, and both pass ``shopkeeper check``."""
    from shopkeeper.db import close_database, open_database
    from shopkeeper.services import chain_check

    n = 3 * stock.MANY
    rows = [(f"S{i:04d}", f"Item {i}", ean(i), 150 + i, 50 + i, i % 7) for i in range(n)]
    data = ("sku,name,barcode,price,cost,unit,reorder_point,on_hand\n" + "".join(
        f"{s},{name},{code},{price / 100:.2f},{cost / 100:.2f},{'kg' if i % 3 else 'pcs'},{i % 2},{qty}\n"
        for i, (s, name, code, price, cost, qty) in enumerate(rows))).encode()

    stored = {}
    for way in ("batch", "one by one"):
        open_database(str(tmp_path / f"{way}.db"))
        try:
            if way == "batch":
                report = import_products(ctx, data)
                assert (report.created, report.counted) == (n, n)
            else:
                for i, (s, name, code, price, cost, qty) in enumerate(rows):
                    save_product(ProductData(sku=s, name=name, barcodes=[code], price=price, avg_cost=cost,
                                             unit="kg" if i % 3 else "pcs", reorder_point=(i % 2) * 1000),
                                 default_tax_rate=ctx.default_tax_rate, ctx=ctx, kind="import")
                    if qty:
                        stock.count(ctx, s, qty * 1000)
            assert chain_check.check(full=True).ok
            stored[way] = _shop_as_stored()
        finally:
            close_database()
    batch, single = stored["batch"], stored["one by one"]
    assert batch["products"] == single["products"]
    assert batch["barcodes"] == single["barcodes"]
    assert batch["changes"] == single["changes"]
    assert len(batch["changes"]) == 5 * n
    assert batch["movements"] == single["movements"]
    assert batch["chain"] == single["chain"] and len(batch["chain"]) == len(batch["movements"])


def _checked_file(data: bytes, *, layouts=None, currency=None) -> tuple:
    """``_check_file`` of ``data`` (by the check pool or in this process, as ``PARALLEL_ROWS`` says): what it
    returns, the reader's notes, and the rows it spooled."""
    import tempfile

    reader = products_csv.ProductCsvReader(data, layouts=layouts, currency=currency)
    with tempfile.TemporaryFile() as spool:
        digest, rows, errors = products_csv._check_file(reader, spool, layouts)
        spool.seek(0)
        spooled = [row for chunk in products_csv._spooled(spool) for row in chunk]
    return digest, rows, errors, reader.notes, spooled


def test_a_file_checked_by_the_pool_gives_what_one_checked_here_gives(db, ctx, monkeypatch):
    from shopkeeper.barcode_settings import VariableMeasureLayout
    from shopkeeper.services.import_profiles import PROFILES

    save_product(ProductData(sku="HELD", name="Held", barcodes=[ean(900)]))
    layouts = (VariableMeasureLayout(prefix="28", measure="weight", pattern="PPIIIICVVVVV", decimals=3),)
    rows = [f"S{i:04d},Item {i},{ean(i)},1.{i % 100:02d},0.50,{i % 7}" for i in range(30)]
    rows[3] = "S0003,Item 3,,1.234,0.50,1"                   # a bad cell
    rows[7] = "S0001,Again,,2,1,1"                            # a duplicate SKU
    rows[11] = f"S0011,Eleven,{ean(2)},2,1,1"                 # a barcode also on an earlier line
    rows[13] = f"S0013,Thirteen,{ean(900)},2,1,1"             # a barcode another product has
    from biip.checksums import gs1_price_weight_check_digit

    from shopkeeper.barcodes import check_digit

    label = f"281234{gs1_price_weight_check_digit('01500')}01500"
    rows[17] = f"S0017,Scale item,{label}{check_digit(label)},2,1,1"  # a scale label: a note
    rows[19] = "S0019,Too many,,2,1,1,1"                      # more cells than the header
    rows[23] = "S0023,Priced,,€2.50,1,1"                      # a price with its currency, read the long way
    data = ("sku,name,barcode,price,cost,on_hand\n" + "\n".join(rows) + "\n").encode()
    woo = (b"ID,Type,SKU,Name,Regular price,Parent,Attribute 1 value(s)\n11,variable,T-1,Tee,,,\"Red, Blue\"\n"
           + b"".join(b"%d,variation,T-1-%d,Tee - Red,5,T-1,Red\n" % (20 + i, i) for i in range(10)))
    assert PROFILES  # another system's layout, mapped here row by row
    monkeypatch.setattr(products_csv, "CHECK_CHUNK_ROWS", 4)
    monkeypatch.setattr(products_csv, "_spare_cores", lambda: 2.0)
    in_pool, pooled_chunks = products_csv._in_pool, []

    def counted(pool, tasks):
        pool._up.wait()  # every chunk by the pool's processes (the first ones are checked here while it starts)
        assert pool.ready()
        for chunk in in_pool(pool, tasks):
            pooled_chunks.append(len(chunk))
            yield chunk

    monkeypatch.setattr(products_csv, "_in_pool", counted)
    for source in (data, woo):
        monkeypatch.setattr(products_csv, "PARALLEL_ROWS", 10**9)
        here = _checked_file(source, layouts=layouts, currency="EUR")
        monkeypatch.setattr(products_csv, "PARALLEL_ROWS", 0)
        pooled = _checked_file(source, layouts=layouts, currency="EUR")
        assert pooled == here and here[4]  # rows spooled, not only refused
    assert sum(pooled_chunks) == 30 + 10  # every row of both files (not the variable parent) went through it
    digest, count, errors, notes, spooled = _checked_file(data, layouts=layouts, currency="EUR")
    assert count == 30
    assert [(e.line, e.column) for e in errors] == [(5, "price"), (9, "sku"), (13, "barcode"), (15, "barcode"),
                                                     (21, "")]
    assert [(n.line, n.column) for n in notes] == [(19, "barcode")]
    assert [row[0] for row in spooled] == [line for line in range(2, 32) if line not in (5, 9, 13, 15, 21)]


def test_the_first_chunks_are_checked_here_while_the_pool_starts(monkeypatch):
    import threading

    monkeypatch.setattr(products_csv, "CHECK_CHUNK_ROWS", 5)
    monkeypatch.setattr(products_csv, "PARALLEL_ROWS", 0)
    monkeypatch.setattr(products_csv, "_spare_cores", lambda: 2.0)
    data = catalogue(40)
    monkeypatch.setattr(products_csv, "PARALLEL_ROWS", 10**9)
    here = _checked_file(data)
    monkeypatch.setattr(products_csv, "PARALLEL_ROWS", 0)
    gate, start, in_pool, ready = threading.Event(), products_csv._CheckPool._start, products_csv._in_pool, []

    def held(self):  # the pool's processes come up only once the first chunk is checked
        gate.wait()
        start(self)

    def watched(pool, tasks):
        for chunk in in_pool(pool, tasks):
            ready.append(pool.ready())
            gate.set()
            yield chunk

    monkeypatch.setattr(products_csv._CheckPool, "_start", held)
    monkeypatch.setattr(products_csv, "_in_pool", watched)
    assert _checked_file(data) == here
    assert ready[0] is False and len(ready) == 8


def test_a_pool_that_breaks_leaves_its_chunks_to_be_checked_here():
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    class Broken:
        broken = False

        def ready(self):
            return not self.broken

        def submit(self, task):
            future = Future()
            future.set_exception(BrokenProcessPool("a process was killed"))
            return future

    reader = products_csv.ProductCsvReader(catalogue(30))
    tasks = list(reader._tasks(reader._records(products_csv._lines(products_csv._binary(reader.source))), True))
    pool = Broken()
    assert list(products_csv._in_pool(pool, iter(tasks))) == [products_csv._check_rows(task) for task in tasks]
    assert pool.broken


def test_a_script_read_from_stdin_checks_its_file_here(tmp_path):
    """A pool's processes re-import the main module from its file: ``python -`` has none (it would crash)."""
    import os
    import subprocess
    import sys

    script = (b"from shopkeeper.services import products_csv\n"
              b"products_csv._spare_cores = lambda: 2.0\n"
              b"with products_csv._check_pool(10 * products_csv.PARALLEL_ROWS) as pool:\n"
              b"    print(pool is None)\n")
    done = subprocess.run([sys.executable, "-"], input=script, capture_output=True, cwd=tmp_path, env=os.environ,
                          check=True)
    assert done.stdout.strip() == b"True"


def test_a_big_file_is_checked_here_when_no_core_is_spare(monkeypatch):
    monkeypatch.setattr(products_csv, "_spare_cores", lambda: 0.2)
    with products_csv._check_pool(10 * products_csv.PARALLEL_ROWS) as pool:
        assert pool is None
    monkeypatch.setattr(products_csv, "_spare_cores", lambda: 1.5)
    with products_csv._check_pool(products_csv.PARALLEL_ROWS) as pool:
        assert pool is None  # too small to pay for starting one
    with products_csv._check_pool(products_csv.PARALLEL_ROWS + 1) as pool:
        assert pool is not None


def test_a_batch_writes_its_products_in_the_batch_transaction_not_in_a_savepoint(db, ctx, monkeypatch):
    """Inside a savepoint SQLite keeps a statement journal of every page each statement changes once ``product``
    has triggers (the kept stock value's): the batch's product insert ran 8× slower there. The batch is all or
    nothing as a whole, so its products need none (the count session, once per import, still takes one)."""
    import traceback

    from shopkeeper.models import database

    opened: list[set[str]] = []
    savepoint = database.obj.savepoint

    def spied(*args, **kw):
        opened.append({frame.name for frame in traceback.extract_stack()})
        return savepoint(*args, **kw)

    monkeypatch.setattr(database.obj, "savepoint", spied)
    data = "sku,name,price,cost,on_hand\n" + "".join(f"S{i:04d},Item {i},1.50,0.50,{i % 7}\n" for i in range(50))
    report = import_products(ctx, data.encode(), batch_rows=20)
    assert report.created == report.counted == 50
    assert [names for names in opened if "save_prepared" in names or "count_now" in names] == []
