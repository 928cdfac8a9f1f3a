"""Several tills selling the same few products at once on PostgreSQL: the sales service against raw psycopg2.

    SHOPKEEPER_BENCH_PG=postgresql://user:pw@localhost/db python bench/bench_tills_pg.py [--tills 4] [--seconds 30]

The database named is WIPED (schema ``public`` dropped and recreated). ``--tills`` processes each sell, as fast as
they can, sales of 1-4 lines of the same ``--products`` products (1 unit each) in a random order, two ways,
alternating in ``--rounds`` rounds so that machine noise hits both alike:

- service: ``shopkeeper.services.sales.sell`` (barcode lookup, pricing, rows locked in id order, the sale, its lines,
           its movements, stock), a deadlock or serialization failure retried inside the service;
- raw:     psycopg2, the same writes as plain statements (INSERT sale, per line INSERT sale_line, INSERT movement,
           UPDATE product ... on_hand), lines in id order, one transaction, retried on a deadlock.

Afterwards every product's stock must equal its opening stock minus every unit the tills reported sold, ``shopkeeper
check`` must be clean, and no till may have seen an error (``DatabaseBusy`` reaching the caller counts as one).
Target: service >= 0.6 x raw sales per second.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import random
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET = 0.6
OPENING = 10_000_000  # thousandths: 10,000 units each, never runs out


def setup(url: str, products: int) -> None:
    from shopkeeper.db import close_database, open_database
    from shopkeeper.services import stock
    from shopkeeper.services.catalog import ProductData, save_product
    from shopkeeper.services.context import Context

    db = open_database(url)
    db.execute_sql("DROP SCHEMA public CASCADE")
    db.execute_sql("CREATE SCHEMA public")
    close_database()
    open_database(url)
    ctx = Context(staff="bench", terminal="bench")
    for i in range(products):
        save_product(ProductData(sku=f"P{i:02d}", name=f"Product {i}", price=100 + i, barcodes=[barcode(i)]))
        stock.receive(ctx, f"P{i:02d}", OPENING, 50)
    close_database()


def barcode(i: int) -> str:
    from shopkeeper.barcodes import check_digit

    body = f"400000{i:06d}"
    return body + check_digit(body)


def till(side: str, url: str, till_no: int, products: int, seconds: float, start: float, out: mp.Queue) -> None:
    rng = random.Random(till_no * 7919 + int(start))
    sold = [0] * products
    commits = errors = retries = 0
    if side == "service":
        from shopkeeper.db import DatabaseBusy, open_database
        from shopkeeper.services.context import Context
        from shopkeeper.services.sales import LineInput, sell

        open_database(url)
        ctx = Context(staff="bench", terminal=f"till-{till_no}")
        codes = [barcode(i) for i in range(products)]
        while time.time() < start:
            time.sleep(0.001)
        end = time.time() + seconds
        while time.time() < end:
            picked = rng.sample(range(products), rng.randint(1, 4))
            try:
                sell(ctx, [LineInput(codes[i], 1000) for i in picked], payment="card")
            except DatabaseBusy:
                errors += 1
                continue
            commits += 1
            for i in picked:
                sold[i] += 1000
    else:
        import psycopg2

        conn = psycopg2.connect(url)
        cur = conn.cursor()
        cur.execute("SELECT id, sku, price, avg_cost FROM product ORDER BY sku")
        rows = cur.fetchall()
        cur.execute("SELECT id FROM staff WHERE name = 'bench'")
        staff = cur.fetchone()[0]
        cur.execute("SELECT id FROM terminal WHERE name = 'bench'")
        terminal = cur.fetchone()[0]
        conn.commit()
        while time.time() < start:
            time.sleep(0.001)
        end = time.time() + seconds
        while time.time() < end:
            picked = rng.sample(range(products), rng.randint(1, 4))
            total = sum(rows[i][2] for i in picked)
            now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
            for _attempt in range(10):
                try:
                    cur.execute(
                        "INSERT INTO sale (kind, created_at, staff_id, terminal_id, subtotal, discount, tax, total, "
                        "payment, tendered, change, original_id, reason) VALUES ('sale', %s, %s, %s, %s, 0, 0, %s, "
                        "'card', NULL, NULL, NULL, '') RETURNING id", (now, staff, terminal, total, total))
                    sale_id = cur.fetchone()[0]
                    for n, i in enumerate(sorted(picked, key=lambda i: rows[i][0]), 1):
                        pid, _sku, price, cost = rows[i]
                        cur.execute(
                            "INSERT INTO sale_line (sale_id, line_no, product_id, description, quantity, unit_price, "
                            "discount, tax_rate, tax, total, unit_cost, original_line_id) VALUES (%s, %s, %s, '', "
                            "1000, %s, 0, 0, 0, %s, %s, NULL)", (sale_id, n, pid, price, price, cost))
                        cur.execute(
                            "INSERT INTO movement (product_id, kind, quantity, unit_cost, unit_price, reason, "
                            "staff_id, terminal_id, created_at, reference, sale_id, count_session_id) VALUES "
                            "(%s, 'sale', -1000, %s, %s, '', %s, %s, %s, '', %s, NULL)",
                            (pid, cost, price, staff, terminal, now, sale_id))
                        cur.execute("UPDATE product SET on_hand = on_hand - 1000 WHERE id = %s", (pid,))
                    conn.commit()
                    break
                except psycopg2.errors.TransactionRollbackError:
                    conn.rollback()
                    retries += 1
            else:
                errors += 1
                continue
            commits += 1
            for i in picked:
                sold[i] += 1000
        conn.close()
    out.put((side, till_no, commits, errors, retries, sold))


def run_side(side: str, url: str, tills: int, products: int, seconds: float) -> tuple[int, int, int, list[int]]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    start = time.time() + 2.0  # every till imported and connected before the clock starts
    procs = [ctx.Process(target=till, args=(side, url, n, products, seconds, start, out)) for n in range(tills)]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join()
    sold = [sum(r[5][i] for r in results) for i in range(products)]
    return sum(r[2] for r in results), sum(r[3] for r in results), sum(r[4] for r in results), sold


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("SHOPKEEPER_BENCH_PG") or os.environ.get("SHOPKEEPER_TEST_PG"))
    parser.add_argument("--tills", type=int, default=4)
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0, help="per side, split over the rounds")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not args.url:
        parser.error("give --url or set SHOPKEEPER_BENCH_PG to a PostgreSQL database that may be wiped")
    setup(args.url, args.products)
    totals = {"service": [0, 0, 0], "raw": [0, 0, 0]}
    sold = [0] * args.products
    for r in range(args.rounds):
        for side in (("service", "raw") if r % 2 == 0 else ("raw", "service")):
            commits, errors, retries, side_sold = run_side(side, args.url, args.tills, args.products,
                                                           args.seconds / args.rounds)
            totals[side][0] += commits
            totals[side][1] += errors
            totals[side][2] += retries
            sold = [a + b for a, b in zip(sold, side_sold, strict=True)]

    import psycopg2

    conn = psycopg2.connect(args.url)
    cur = conn.cursor()
    cur.execute("SELECT on_hand FROM product ORDER BY sku")
    on_hand = [row[0] for row in cur.fetchall()]
    conn.close()
    exact = on_hand == [OPENING - s for s in sold]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    check = subprocess.run([sys.executable, "-m", "shopkeeper", "--db", args.url, "check"], env=env,
                           capture_output=True, text=True)

    print(f"bench_tills_pg: {args.tills} tills x {args.products} products, {args.seconds:g} s per side in "
          f"{args.rounds} rounds  ({platform.python_version()}, {platform.node()})")
    print(f"  command: {shlex.join([sys.executable, *sys.argv])}")
    rate = {}
    for side in ("raw", "service"):
        commits, errors, retries = totals[side]
        rate[side] = commits / args.seconds
        print(f"  {side:8s} {rate[side]:8.1f} sales/s   {commits} sales, {retries} deadlock retries (raw side), "
              f"{errors} errors seen by a till")
    ratio = rate["service"] / rate["raw"] if rate["raw"] else 0.0
    print(f"  service / raw = {ratio:.2f}  (target >= {TARGET})  {'OK' if ratio >= TARGET else 'BELOW TARGET'}")
    print(f"  stock exact afterwards: {'yes' if exact else 'NO'}   check exit {check.returncode}: "
          f"{check.stdout.strip().splitlines()[-1] if check.stdout.strip() else check.stderr.strip()}")
    ok = ratio >= TARGET and exact and check.returncode == 0 and totals["service"][1] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
