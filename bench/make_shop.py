"""Build a shop of N products and M movements for benchmarks, fast.

    python bench/make_shop.py PATH --products 100000 --movements 1000000

The database has the real schema (``shopkeeper.db.open_database`` creates the tables, indexes and the append-only
triggers first); then products (each with one EAN-13 barcode with a valid check digit), suppliers and movements are
bulk-inserted with ``executemany`` inside one transaction, without going through the services. Every product's
``on_hand`` equals the sum of its movements, so ``python -m shopkeeper --db PATH check`` passes, and no product's
stock ever goes below zero along the journal.

The result is cached: if PATH already holds a shop built by this generator with the same N and M (recorded in the
``bench_meta`` table), it is reused as it is. Import it and call ``build_shop(path, products, movements)`` from
other benchmarks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shopkeeper.barcodes import check_digit
from shopkeeper.db import close_database, open_database
from shopkeeper.money import RATE_SCALE, extend, round_div

GENERATOR_VERSION = 4
SEED = 20261125
BARCODE_PREFIX = "400"  # a GS1 company prefix range outside 20-29 (in-store codes), 9 digits of item number follow
END = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
"""The journal ends here (one movement every ~30 s before it): in the past, so every day of it is closed."""


def barcode_for(product_id: int) -> str:
    """The EAN-13 of product ``product_id``: prefix 400, the id on 9 digits, the GS1 check digit."""
    payload = f"{BARCODE_PREFIX}{product_id:09d}"
    return payload + check_digit(payload)


def _schema_sql(con: sqlite3.Connection) -> str:
    rows = con.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'bench_%' "
                       "ORDER BY sql").fetchall()
    return "\n".join(r[0] for r in rows)


def current_schema() -> str:
    """The schema today's code creates, to tell a cached shop built by older code (other indexes) from a fresh one."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        fresh = str(Path(tmp) / "schema.db")
        from shopkeeper.db import close_database, open_database

        open_database(fresh)
        close_database()
        con = sqlite3.connect(fresh)
        try:
            return _schema_sql(con)
        finally:
            con.close()


def cached_size(path: str | Path) -> tuple[int, int] | None:
    """(products, movements) of the shop at ``path`` if this generator built it with today's schema, else None."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT products, movements, generator FROM bench_meta").fetchone()
            if _schema_sql(con) != current_schema():
                return None
        finally:
            con.close()
    except sqlite3.Error:
        return None
    if row is None or row[2] != GENERATOR_VERSION:
        return None
    return row[0], row[1]


def seal_shop(path: str | Path, *, quiet: bool = False) -> None:
    """Link the rows the generator wrote (behind the services, like an upgrade from before the chain) into the hash
    chains and store a checkpoint, as a shop on this version has them. Idempotent; done once on the cached shop."""
    from shopkeeper.db import close_database, open_database
    from shopkeeper.services import chain
    from shopkeeper.services.chain_check import journal_sums

    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    open_database(str(path))
    try:
        if any(chain.unlinked(stream) for stream in chain.STREAMS):
            started = time.perf_counter()
            linked = sum(chain.seal_unlinked(stream) for stream in chain.STREAMS)
            head = chain.head()
            chain.store_checkpoint(head.positions, head.hashes, journal_sums())
            say(f"make_shop: linked {linked:,} rows into the hash chains and stored a checkpoint in "
                f"{time.perf_counter() - started:.1f}s")
    finally:
        close_database()


def build_shop(path: str | Path, products: int = 100_000, movements: int = 1_000_000, *, force: bool = False,
               quiet: bool = False) -> Path:
    """Make sure ``path`` holds a shop of ``products`` products and ``movements`` movements; return the path.

    Reuses an existing shop of the same size built by this generator unless ``force``.
    """
    path = Path(path).expanduser().resolve()
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    if products < 1:
        raise ValueError("a shop needs at least one product")
    if movements < products:
        raise ValueError("need at least one movement per product (the opening receipt)")
    if not force and cached_size(path) == (products, movements):
        say(f"make_shop: reusing {path} ({products:,} products, {movements:,} movements)")
        return path

    started = time.perf_counter()
    tmp = path.with_name(path.name + ".building")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
        p.unlink(missing_ok=True)

    # 1. The real schema: tables, indexes, triggers, schema version.
    open_database(str(tmp))
    close_database()

    # 2. Bulk load on a plain connection: rollback journal and no fsync while loading (the file is only renamed
    #    into place once complete), WAL again at the end as the shop expects.
    con = sqlite3.connect(tmp, isolation_level=None)
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")  # 256 MB
    con.execute("PRAGMA temp_store=MEMORY")
    rng = random.Random(SEED)
    con.execute("BEGIN")

    n_suppliers = max(1, products // 1000)
    con.executemany("INSERT INTO supplier (id, name, contact, lead_days) VALUES (?, ?, ?, ?)",
                    [(i, f"Supplier {i:05d}", f"orders{i}@example.com", rng.randint(1, 14))
                     for i in range(1, n_suppliers + 1)])

    # Per product: price, cost and tax rate. Pieces mostly, some weighed goods.
    costs = [0] * (products + 1)
    prices = [0] * (products + 1)
    rates = [0] * (products + 1)
    units = [""] * (products + 1)
    names = [""] * (products + 1)
    stock = [0] * (products + 1)
    epoch = END - dt.timedelta(seconds=30 * movements)
    now = epoch.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    product_rows = []
    for pid in range(1, products + 1):
        cost = rng.randint(20, 5000)
        costs[pid] = cost
        prices[pid] = cost * rng.randint(120, 250) // 100
        unit = units[pid] = "kg" if pid % 20 == 0 else "pcs"
        rates[pid] = rng.choice((0, 5_500, 10_000, 20_000))  # money.RATE_SCALE
        names[pid] = f"Product {pid} {rng.choice(_WORDS)} {rng.choice(_WORDS)}"
        product_rows.append((
            pid, f"SKU{pid:07d}", names[pid], unit, prices[pid],
            rates[pid], cost, rng.choice((0, 5000, 10000, 20000)), 24000,
            rng.randint(1, n_suppliers), rng.choice(_CATEGORIES), 1, 0, now,
        ))
    con.executemany(
        "INSERT INTO product (id, sku, name, unit, price, tax_rate, avg_cost, reorder_point, reorder_qty, "
        "supplier_id, category, active, on_hand, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        product_rows)
    del product_rows
    con.executemany("INSERT INTO barcode (code, product_id) VALUES (?, ?)",
                    ((barcode_for(pid), pid) for pid in range(1, products + 1)))
    say(f"make_shop: {products:,} products in {time.perf_counter() - started:.1f}s")

    # Movements: an opening receipt per product, then a random mix of sales, receipts and adjustments, in time
    # order (one movement every ~30 s). Sales are real: a sale row of 1-4 lines (a movement each), paid by cash,
    # card or other, or split between card and cash (a payment row per tender, change from cash), rung up by one
    # of four staff at one of three tills; about 2 % of sales are later refunded in part (a return sale, its line,
    # a return movement and a cash payment back). Prices include tax, as the default config says; the cost never
    # changes, so every product's moving average cost is its cost. Stock never goes below zero: a sale line that
    # would is posted as a receipt instead.
    con.executemany("INSERT INTO staff (id, name, active) VALUES (?, ?, ?)",
                    [(i, name, True) for i, name in enumerate(("Ana", "Ben", "Cleo", "Dev"), 1)])
    con.executemany("INSERT INTO terminal (id, name) VALUES (?, ?)", [(i, f"till-{i}") for i in (1, 2, 3)])
    step_us = 30_000_000
    base = int(epoch.timestamp() * 1_000_000)

    def stamp(i: int) -> str:
        us = base + i * step_us + rng.randrange(1_000_000)
        return dt.datetime.fromtimestamp(us / 1_000_000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    moves: list[tuple] = []
    sale_rows: list[tuple] = []
    line_rows: list[tuple] = []
    pay_rows: list[tuple] = []
    ids = {"sale": 0, "line": 0, "payment": 0}
    recent: list[tuple] = []  # (sale id, line id, product, quantity, unit price, tax rate, total, tax)

    def flush() -> None:
        con.executemany("INSERT INTO sale (id, kind, created_at, staff_id, terminal_id, original_id, subtotal, "
                        "discount, tax, total, payment, tendered, change, reason) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)", sale_rows)
        con.executemany('INSERT INTO payment (id, sale_id, method, amount, tendered, "change") '
                        "VALUES (?, ?, ?, ?, ?, ?)", pay_rows)
        con.executemany("INSERT INTO sale_line (id, sale_id, line_no, product_id, description, quantity, "
                        "unit_price, discount, tax_rate, tax, total, unit_cost, original_line_id) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)", line_rows)
        con.executemany(
            "INSERT INTO movement (product_id, kind, quantity, unit_cost, unit_price, reason, staff_id, terminal_id, "
            "created_at, reference, sale_id, count_session_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", moves)
        moves.clear()
        sale_rows.clear()
        line_rows.clear()
        pay_rows.clear()

    def sale(when: str, budget: int) -> int:
        """One sale of up to ``budget`` lines; returns the movements it posted (0: nothing was in stock)."""
        ids["sale"] += 1
        sale_id, staff, till = ids["sale"], rng.randint(1, 4), rng.randint(1, 3)
        total = tax = 0
        lines = []
        for pid in {rng.randint(1, products) for _ in range(min(budget, rng.choice((1, 1, 2, 3, 4))))}:
            qty = rng.randint(100, 2000) if units[pid] == "kg" else rng.randint(1, 5) * 1000
            if stock[pid] < qty:
                continue
            stock[pid] -= qty
            ids["line"] += 1
            amount = extend(qty, prices[pid])  # as sales.price_lines works it out, half to even
            line_tax = round_div(amount * rates[pid], RATE_SCALE + rates[pid])
            total, tax = total + amount, tax + line_tax
            lines.append((ids["line"], sale_id, len(lines) + 1, pid, names[pid], qty, prices[pid], rates[pid],
                          line_tax, amount, costs[pid], None))
            moves.append((pid, "sale", -qty, costs[pid], prices[pid], "", staff, till, when, f"sale:{sale_id}",
                          sale_id, None))
            recent.append((sale_id, ids["line"], pid, qty, prices[pid], rates[pid], amount, line_tax))
        if not lines:
            ids["sale"] -= 1
            return 0
        payment = rng.choices(("cash", "card", "other", "split"), (38, 53, 5, 4))[0]
        # a split tender: some on card, the rest in cash (a payment row each, as ``sales.sell`` writes them)
        card = rng.randint(1, total - 1) if payment == "split" and total > 1 else 0
        if payment == "split" and not card:
            payment = "card"
        cash = total - card if payment in ("cash", "split") else 0
        tendered = -(-cash // 500) * 500 if cash else None
        change = tendered - cash if tendered is not None else None
        for method, amount in (("card", card), ("cash", cash)) if payment == "split" else ((payment, total),):
            ids["payment"] += 1
            pay_rows.append((ids["payment"], sale_id, method, amount, tendered if method == "cash" else None,
                             change if method == "cash" else None))
        sale_rows.append((sale_id, "sale", when, staff, till, None, total, tax, total, payment, tendered, change,
                          ""))
        line_rows.extend(lines)
        del recent[:-2000]
        return len(lines)

    def refund(when: str) -> bool:
        if not recent:
            return False
        orig_sale, orig_line, pid, qty, price, rate, amount, line_tax = recent.pop(rng.randrange(len(recent)))
        ids["sale"] += 1
        ids["line"] += 1
        stock[pid] += qty
        sale_rows.append((ids["sale"], "return", when, rng.randint(1, 4), rng.randint(1, 3), orig_sale, -amount,
                          -line_tax, -amount, "cash", None, None, "customer return"))
        ids["payment"] += 1
        pay_rows.append((ids["payment"], ids["sale"], "cash", -amount, None, None))
        line_rows.append((ids["line"], ids["sale"], 1, pid, names[pid], qty, price, rate, -line_tax, -amount,
                          costs[pid], orig_line))
        moves.append((pid, "return", qty, costs[pid], price, "", None, None, when, f"return:{ids['sale']}",
                       ids["sale"], None))
        return True

    for pid in range(1, products + 1):
        qty = rng.randint(50, 500) * 1000
        stock[pid] += qty
        moves.append((pid, "receive", qty, costs[pid], None, "", None, None, stamp(pid - 1), "delivery:OPENING",
                      None, None))
    flush()
    i = products
    while i < movements:
        when = stamp(i)
        r = rng.random()
        if r < 0.80:
            posted = sale(when, movements - i)
            if posted:
                i += posted
                continue
            r = 0.9  # out of stock: restock instead
        if r < 0.81 and refund(when):
            i += 1
            continue
        pid = rng.randint(1, products)
        if r < 0.97:
            qty = rng.randint(12, 120) * 1000
            stock[pid] += qty
            moves.append((pid, "receive", qty, costs[pid], None, "", None, None, when, f"delivery:D{i}", None,
                          None))
        else:
            qty = rng.choice((-1000, -2000, 1000))
            if stock[pid] + qty < 0:
                qty = 1000
            stock[pid] += qty
            moves.append((pid, "adjust", qty, costs[pid], None, "damaged" if qty < 0 else "found", None, None,
                          when, "", None, None))
        i += 1
        if len(moves) >= 200_000:
            flush()
    flush()
    say(f"make_shop: {movements:,} movements in {time.perf_counter() - started:.1f}s")
    con.executemany("UPDATE product SET on_hand = ? WHERE id = ?",
                    ((stock[pid], pid) for pid in range(1, products + 1)))
    con.execute("CREATE TABLE bench_meta (products INTEGER, movements INTEGER, generator INTEGER, built_at TEXT)")
    con.execute("INSERT INTO bench_meta VALUES (?, ?, ?, ?)",
                (products, movements, GENERATOR_VERSION, dt.datetime.now(dt.UTC).isoformat()))
    con.execute("COMMIT")
    con.execute("PRAGMA journal_mode=WAL")
    con.close()

    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    os.replace(tmp, path)
    from shopkeeper.services import stock_value

    open_database(str(path))  # the kept stock value's rows, one per product insert and stock update, summed per
    try:  # group, as in a shop that has traded for a year and folded them many times
        stock_value.fold()
    finally:
        close_database()
    say(f"make_shop: built {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f}s")
    return path


_WORDS = ("olive", "oil", "bread", "cheese", "apple", "coffee", "tea", "rice", "pasta", "soap", "honey", "salt",
          "flour", "sugar", "jam", "milk", "butter", "beans", "lentils", "wine", "beer", "water", "juice", "nuts")
_CATEGORIES = ("grocery", "dairy", "bakery", "drinks", "household", "fresh", "frozen", "deli")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--movements", type=int, default=1_000_000)
    parser.add_argument("--force", action="store_true", help="rebuild even if a shop of this size is there")
    args = parser.parse_args(argv)
    build_shop(args.path, args.products, args.movements, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
