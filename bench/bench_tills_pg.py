"""Several tills selling the same few products at once on PostgreSQL: the sales service against raw psycopg2.

    SHOPKEEPER_BENCH_PG=postgresql://user:pw@localhost/db python bench/bench_tills_pg.py [--tills 4] [--seconds 30]

The database named is WIPED (schema ``public`` dropped and recreated). ``--tills`` processes each sell, as fast as
they can, sales of 1-4 lines of the same ``--products`` products (1 unit each) in a random order, two ways,
alternating in ``--rounds`` rounds so that machine noise hits both alike:

- service: ``shopkeeper.services.sales.sell`` (barcode lookup, pricing, rows locked in id order, the sale, its lines,
           its movements, stock), a deadlock or serialization failure retried inside the service;
- raw:     psycopg2 sending the statements the service sends (as Peewee logs them: a lookup per code, BEGIN, the
           sale, the products locked in id order, per line the stock UPDATE and the movement, the sale lines,
           COMMIT), retried on a deadlock: what the service costs on top of its SQL.

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


def link_raw_rows(url: str) -> None:
    """The raw side's rows bypassed the services, so they have no links: link them (as an upgrade would) before
    ``check``, which then proves the service side's chain: no fork, every sale linked once."""
    from shopkeeper.db import close_database, open_database
    from shopkeeper.services import chain

    open_database(url)
    try:
        for stream in chain.STREAMS:
            chain.seal_unlinked(stream)
    finally:
        close_database()


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
        conn.autocommit = True  # as Peewee runs it: explicit BEGIN / COMMIT
        cur = conn.cursor()
        cur.execute("SELECT id FROM staff WHERE name = 'bench'")
        staff = cur.fetchone()[0]
        cur.execute("SELECT id FROM terminal WHERE name = 'bench'")
        terminal = cur.fetchone()[0]
        codes = [barcode(i) for i in range(products)]
        while time.time() < start:
            time.sleep(0.001)
        end = time.time() + seconds
        while time.time() < end:
            picked = rng.sample(range(products), rng.randint(1, 4))
            for _attempt in range(5):
                try:
                    raw_sale(cur, [codes[i] for i in picked], staff, terminal)
                    break
                except psycopg2.errors.TransactionRollbackError:
                    cur.execute("ROLLBACK")
                    retries += 1
            else:
                errors += 1
                continue
            commits += 1
            for i in picked:
                sold[i] += 1000
        conn.close()
    out.put((side, till_no, commits, errors, retries, sold))


PRODUCT = ('p."id", p."sku", p."name", p."unit", p."price", p."tax_rate", p."avg_cost", p."reorder_point", '
           'p."reorder_qty", p."supplier_id", p."category", p."active", p."on_hand", p."updated_at"')
LOOKUP = (f"SELECT {PRODUCT} FROM product p WHERE p.sku = %s UNION ALL SELECT {PRODUCT} FROM barcode b "
          "JOIN product p ON p.id = b.product_id WHERE b.code = %s LIMIT 1")


def raw_sale(cur, codes: list[str], staff: int, terminal: int) -> None:
    """The statements ``sales.sell`` sends for these codes (logged from Peewee), in the same order."""
    found = []
    for code in codes:
        cur.execute(LOOKUP, (code, code))
        found.append(cur.fetchone())
    total = sum(row[4] for row in found)
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    cur.execute("BEGIN")
    cur.execute("INSERT INTO sale (kind, created_at, staff_id, terminal_id, original_id, subtotal, discount, tax, "
                "total, payment, tendered, change, reason) VALUES ('sale', %s, %s, %s, NULL, %s, 0, 0, %s, 'card', "
                "NULL, NULL, '') RETURNING id", (now, staff, terminal, total, total))
    sale_id = cur.fetchone()[0]
    if len(found) > 1:
        cur.execute("SELECT id FROM product WHERE id IN %s ORDER BY id FOR NO KEY UPDATE",
                    (tuple(sorted(row[0] for row in found)),))
    costs = []
    for row in found:
        cur.execute("UPDATE product SET on_hand = on_hand + %s, updated_at = %s WHERE id = %s "
                    "RETURNING on_hand, avg_cost, sku", (-1000, now, row[0]))
        cost = cur.fetchone()[1]
        costs.append(cost)
        cur.execute("INSERT INTO movement (product_id, kind, quantity, unit_cost, unit_price, reason, staff_id, "
                    "terminal_id, created_at, reference, sale_id, count_session_id) VALUES (%s, 'sale', -1000, %s, "
                    "%s, '', %s, %s, %s, %s, %s, NULL) RETURNING id",
                    (row[0], cost, row[4], staff, terminal, now, f"sale:{sale_id}", sale_id))
    for n, (row, cost) in enumerate(zip(found, costs, strict=True), 1):
        cur.execute("INSERT INTO sale_line (sale_id, line_no, product_id, description, quantity, unit_price, "
                    "discount, tax_rate, tax, total, unit_cost, original_line_id) VALUES (%s, %s, %s, %s, 1000, %s, "
                    "0, 0, 0, %s, %s, NULL)", (sale_id, n, row[0], row[2], row[4], row[4], cost))
    cur.execute("COMMIT")


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
    parser.add_argument("--url",
                        default=os.environ.get("SHOPKEEPER_BENCH_PG") or os.environ.get("SHOPKEEPER_TEST_PG"))
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
    link_raw_rows(args.url)
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
        retried = f"{retries} deadlock retries" if side == "raw" else "deadlocks retried inside the service"
        print(f"  {side:8s} {rate[side]:8.1f} sales/s   {commits} sales, {retried}, {errors} errors seen by a till")
    ratio = rate["service"] / rate["raw"] if rate["raw"] else 0.0
    print(f"  service / raw = {ratio:.2f}  (target >= {TARGET})  {'OK' if ratio >= TARGET else 'BELOW TARGET'}")
    print(f"  stock exact afterwards: {'yes' if exact else 'NO'}   check exit {check.returncode}: "
          f"{check.stdout.strip().splitlines()[-1] if check.stdout.strip() else check.stderr.strip()}")
    ok = ratio >= TARGET and exact and check.returncode == 0 and totals["service"][1] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
