"""Product list import at scale: rows per second against raw ``executemany``, peak memory, and what a till waits.

    python bench/bench_import.py [--rows 100000 1000000] [--batch N]

For each size a CSV of N products (sku, name, barcode, price, cost, unit, on_hand) is written once, then, in the
same run, on fresh databases:
- baseline ``raw``: the same file read by ``csv.reader`` and its rows inserted into ``product`` and ``barcode`` by
  raw ``executemany`` in one transaction (no checks, no change log, no count): the floor of storing the products;
- baseline ``raw+``: the same, plus every other row the import must store for each product, inserted just as raw:
  the five ``product_change`` rows of a new product (price, tax rate, average cost, unit, active), the opening
  count's ``count_line`` and ``count`` movement (``on_hand``, set on the product too) and the movement's
  ``chain_link`` (its SHA-256 computed over the row). The import's ratio is taken against this one: the import
  necessarily stores these rows (the rules: every change logged, stock moved only through the journal, every
  journal row chained), so raw ``executemany`` of product and barcode alone is not the same work;
- import: ``shopkeeper products import FILE`` in a child process (its peak memory: ``VmHWM``), while a
  second child process sells one item every 50 ms on the same database and times each sale from start to commit.
  Its time is the child's whole life, Python's start-up and imports included (printed apart as ``start-up``).
Printed: seconds and rows/s of each, the import's ratio to ``raw+`` (target ≥ 0.5; to ``raw`` too), its peak RSS
(target < 200 MB at 1M rows) and the longest and 99th-percentile sale (target < 1 s).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shopkeeper.barcodes import check_digit  # noqa: E402

SELLER = r"""
import json, sys, time
from pathlib import Path
from shopkeeper.db import open_database
from shopkeeper.services import sales
from shopkeeper.services.context import Context
open_database(sys.argv[1])
stop, waits = Path(sys.argv[2]), []
ctx = Context(staff="bench", terminal="till-2", negative_stock="allow")
while not stop.exists():
    start = time.perf_counter()
    sales.sell(ctx, [sales.LineInput("TILL", 1000)], payment="card")
    waits.append(time.perf_counter() - start)
    time.sleep(0.05)
print(json.dumps(waits))
"""

IMPORTER = r"""
import time
entered = time.time()  # the interpreter is up: its start-up is what came before (the parent's clock at launch)
import json, sys
from shopkeeper.db import open_database
from shopkeeper.services.context import Context
from shopkeeper.services.products_csv import import_products
open_database(sys.argv[1])
ready = time.time()
start = time.perf_counter()
with open(sys.argv[2], "rb") as data:
    report = import_products(Context(staff="bench", terminal="office"), data, batch_rows=int(sys.argv[3]) or None)
# VmHWM: this process's own peak (ru_maxrss would carry over the bench's, through fork and exec, on Linux)
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": time.perf_counter() - start, "created": report.created, "peak_mb": peak / 1024,
                  "entered": entered, "ready": ready}))
"""


def write_file(path: Path, n: int) -> None:
    with path.open("w", newline="") as out:
        out.write("sku,name,barcode,price,cost,unit,on_hand\n")
        for i in range(n):
            stem = f"21{i:010d}"
            out.write(f"B{i:07d},Bench item {i},{stem}{check_digit(stem)},{1 + i % 50}.{i % 100:02d},0.{10 + i % 80},"
                      f"pcs,{i % 40}\n")


def baseline(path: Path, db: Path, *, everything: bool) -> float:
    """The floor: the file's rows stored by raw executemany, one transaction, no checks. ``everything``: also the
    rows the import must store for each product besides product and barcode (see the module docstring)."""
    from shopkeeper.db import close_database, open_database

    open_database(str(db))
    close_database()
    start = time.perf_counter()
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    with path.open(newline="") as data:
        reader = csv.reader(data)
        next(reader)
        rows = [(sku, name, int(price.replace(".", "")), int(cost.replace(".", "")), unit, code,
                 int(on_hand) * 1000) for sku, name, code, price, cost, unit, on_hand in reader]
    now = "2026-01-01T00:00:00.000000Z"
    con.executemany("INSERT INTO product (sku, name, price, avg_cost, unit, tax_rate, reorder_point, reorder_qty, "
                    "category, active, on_hand, updated_at) VALUES (?, ?, ?, ?, ?, 0, 0, 0, '', 1, ?, '')",
                    [(*r[:5], r[6] if everything else 0) for r in rows])
    con.executemany("INSERT INTO barcode (code, product_id) SELECT ?, id FROM product WHERE sku = ?",
                    [(r[5], r[0]) for r in rows])
    if everything:
        ids = dict(con.execute("SELECT sku, id FROM product"))
        con.executemany("INSERT INTO product_change (product_id, field, old, new, kind, note, created_at) "
                        "VALUES (?, ?, NULL, ?, 'create', 'raw', ?)",
                        [(ids[r[0]], name, str(value), now) for r in rows
                         for name, value in (("price", r[2]), ("tax_rate", 0), ("avg_cost", r[3]), ("unit", r[4]),
                                             ("active", 1))])
        session = con.execute("INSERT INTO count_session (started_at, status, note) VALUES (?, 'posted', 'raw')",
                              (now,)).lastrowid
        con.executemany("INSERT INTO count_line (session_id, product_id, counted, expected, counted_at) "
                        "VALUES (?, ?, ?, 0, ?)", [(session, ids[r[0]], r[6], now) for r in rows])
        con.executemany("INSERT INTO movement (product_id, kind, quantity, unit_cost, reason, created_at, reference, "
                        "count_session_id) VALUES (?, 'count', ?, ?, 'raw', ?, ?, ?)",
                        [(ids[r[0]], r[6], r[3], now, f"count:{session}", session) for r in rows if r[6]])
        prev, links = hashlib.sha256(b"raw").digest(), []
        for position, row in enumerate(con.execute("SELECT * FROM movement ORDER BY id"), 1):
            prev = hashlib.sha256(prev + json.dumps(row).encode()).digest()
            links.append((1, position, row[0], prev))
        con.executemany("INSERT INTO chain_link (stream, position, row_id, hash) VALUES (?, ?, ?, ?)", links)
    con.execute("COMMIT")
    con.close()
    return time.perf_counter() - start


def shop_with_a_till(db: Path) -> None:
    from shopkeeper.db import close_database, open_database
    from shopkeeper.services import stock
    from shopkeeper.services.catalog import ProductData, save_product
    from shopkeeper.services.context import Context

    open_database(str(db))
    save_product(ProductData(sku="TILL", name="Sold during the import", price=100))
    stock.receive(Context(staff="bench"), "TILL", 10_000_000, 40)
    close_database()


def run(n: int, batch: int, tmp: Path) -> None:
    data = tmp / f"products-{n}.csv"
    write_file(data, n)
    raw = baseline(data, tmp / f"raw-{n}.db", everything=False)
    base = baseline(data, tmp / f"raw-plus-{n}.db", everything=True)
    db = tmp / f"import-{n}.db"
    shop_with_a_till(db)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    stop = tmp / f"stop-{n}"
    seller = subprocess.Popen([sys.executable, "-c", SELLER, str(db), str(stop)], stdout=subprocess.PIPE, env=env,
                              text=True)
    launched, started = time.time(), time.perf_counter()
    result = json.loads(subprocess.run([sys.executable, "-c", IMPORTER, str(db), str(data), str(batch)], env=env,
                                       check=True, capture_output=True, text=True).stdout)
    seconds = time.perf_counter() - started  # the child's whole life: start-up, imports, the import, exit
    stop.touch()
    waits = sorted(json.loads(seller.communicate()[0]))
    assert result["created"] == n, result
    p99 = waits[int(len(waits) * 0.99)] if waits else 0.0
    print(f"{n:>9,} rows  {data.stat().st_size / 1e6:6.1f} MB  raw {raw:6.2f} s ({n / raw:8,.0f} rows/s)"
          f"  raw+ {base:6.2f} s ({n / base:8,.0f} rows/s)"
          f"  import {seconds:6.2f} s ({n / seconds:7,.0f} rows/s; start-up {result['entered'] - launched:.2f} s,"
          f" imports and open {result['ready'] - result['entered']:.2f} s, import_products {result['seconds']:.2f} s)"
          f"  ratio {base / seconds:.2f} to raw+ ({raw / seconds:.2f} to raw)"
          f"  peak {result['peak_mb']:.0f} MB  sales {len(waits)}: longest {max(waits, default=0):.3f} s,"
          f" p99 {p99:.3f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--batch", type=int, default=0, help="rows per transaction (default: sized as it goes)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.rows:
            run(n, args.batch, Path(tmp))


if __name__ == "__main__":
    main()
