"""Stock filter keystroke → table repainted, on SQLite and PostgreSQL in the same run, at 100k products.

    python bench/bench_filter.py postgresql://user:pass@localhost/db      # 100k products
    python bench/bench_filter.py postgresql://user:pass@localhost/db 20000

The PostgreSQL shop is built in a schema of its own, ``shopkeeper_bench`` (dropped and made again; nothing else in
the database is touched), the SQLite one in a temporary file; both hold the same products, stock and barcodes
(``bench_tui.build_shop``'s). For each, the app runs headless at 80×24 and the filter box is set to each of 20
texts in turn, as typing does; the time is from the change to the refreshed table painted (the first window read
on the loop; the full index follows in a thread and is not part of it). Beside it, the same window query alone.
Target: worst of 20 under 50 ms on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_tui  # noqa: E402

FILTERS = ["a", "ap", "app", "appl", "apple", "apple 1", "t", "te", "tea", "zzz", "ITEM-0099", "item-009999",
           "20000000", "2000000000", "che", "chee", "chees", "cheese ham", "", "x"]
SCHEMA = "shopkeeper_bench"


def build_postgres_shop(url: str, n: int) -> str:
    """The bench shop in schema ``shopkeeper_bench`` of ``url``; returns the URL that opens it."""
    from playhouse.db_url import connect

    from shopkeeper.db import close_database, open_database

    admin = connect(url)
    admin.execute_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    admin.execute_sql(f"CREATE SCHEMA {SCHEMA}")
    admin.close()
    shop_url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{SCHEMA}"
    db = open_database(shop_url)
    from psycopg2.extras import execute_values

    rng = random.Random(1)  # the same products as bench_tui.build_shop
    words = ["apple", "bread", "cheese", "dog", "egg", "fig", "grape", "ham", "ice", "jam", "kale", "lime", "mint",
             "nut", "oat", "pea", "rice", "salt", "tea", "veg"]
    now = "2026-01-01T00:00:00.000000Z"
    rows = [(f"ITEM-{i:06d}", f"{rng.choice(words).title()} {rng.choice(words)} {i}", rng.randint(50, 5000),
             rng.randint(20, 3000), rng.choice([0, 2000, 5000]), rng.randint(0, 40) * 1000, now) for i in range(n)]
    with db.atomic():
        cursor = db.cursor()
        execute_values(cursor, "INSERT INTO product (sku, name, unit, price, tax_rate, avg_cost, reorder_point, "
                       "reorder_qty, category, active, on_hand, updated_at) VALUES %s", rows,
                       template="(%s, %s, 'pcs', %s, 20000, %s, %s, 12000, 'Generated', true, %s, %s)",
                       page_size=2000)
        db.execute_sql("INSERT INTO movement (product_id, kind, quantity, unit_cost, reason, created_at, reference) "
                       "SELECT id, 'receive', on_hand, avg_cost, '', %s, 'delivery:opening' FROM product "
                       "WHERE on_hand <> 0", (now,))
        db.execute_sql("INSERT INTO barcode (code, product_id) SELECT '20' || lpad(id::text, 11, '0'), id "
                       "FROM product WHERE id %% 3 = 0", ())
    db.execute_sql("ANALYZE")
    close_database()
    return shop_url


def window_alone(location: str) -> list[float]:
    from shopkeeper.db import close_database, open_database
    from shopkeeper.services import queries
    from shopkeeper.services.queries import StockQuery

    open_database(location)
    times = []
    for text in FILTERS:
        t0 = time.perf_counter()
        queries.stock_window(StockQuery(text), 0, 21)
        times.append((time.perf_counter() - t0) * 1000)
    close_database()
    return times


def report(name: str, keys: list[float], alone: list[float]) -> None:
    print(f"{name}: keystroke to repainted table: median {statistics.median(keys):.1f} ms, worst of {len(keys)} "
          f"{max(keys):.1f} ms (target < 50 ms); window query alone: median {statistics.median(alone):.1f} ms, "
          f"worst {max(alone):.1f} ms")
    for text, k, a in zip(FILTERS, keys, alone, strict=True):
        print(f"   {text!r:>14}: {k:6.1f} ms  (query alone {a:5.1f} ms)")


def main(url: str, n: int) -> None:
    bench_tui.FILTERS[:] = FILTERS
    print(f"python {sys.version.split()[0]}; {n:,} products; filters typed: {FILTERS}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "shop.db"
        t0 = time.perf_counter()
        bench_tui.build_shop(path, n)
        print(f"SQLite shop built in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        shop_url = build_postgres_shop(url, n)
        print(f"PostgreSQL shop built in {time.perf_counter() - t0:.1f} s (schema {SCHEMA})")
        for name, location in (("SQLite", str(path)), ("PostgreSQL", shop_url)):
            alone = window_alone(location)
            keys = asyncio.run(bench_tui.keystrokes(location))
            report(name, keys, alone)


if __name__ == "__main__":
    if len(sys.argv) < 2 or not sys.argv[1].startswith(("postgres://", "postgresql://")):
        raise SystemExit(__doc__)
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100_000)
