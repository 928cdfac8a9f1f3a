"""Time every report for a year of a big shop against the same aggregate computed by DuckDB.

    python bench/bench_reports.py /tmp/shop.db --products 100000 --movements 10000000

The shop is built (or reused) by ``make_shop.py``. Its rows are then copied once, untimed, into DuckDB's own storage
(``PATH.duckdb``), and each report is timed against the same aggregate DuckDB computes over the same rows, in the same
run: DuckDB is here only as the yardstick of a fast analytical engine (``pip install -e '.[bench]'``); shopkeeper never
imports it. For each report: the first run and its CPU time (for ``sales`` that reads every sale line and keeps the
closed hours and days, ``services/sales_cache.py``; for ``best-sellers`` the year's lines, kept per product as a span
of days for ``worst-sellers`` and ``abc`` too, ``services/product_sales_cache.py``; for ``movement`` the journal's
running totals at two month starts, ``services/journal_cache.py``), then the median of ``--runs`` more, DuckDB's
median, and our ratio to it. On a busy machine, or with the shop's pages not yet in the page cache, the first run
waits for others: its CPU time is the work. ``best-sellers -1d`` is the range a day earlier, as the next day's report
starts from a kept span: one day read and added, one taken off (its first run keeps the new span). ``valuation --at``
values the stock as it stood ``--at-days`` before the end. ``--only NAME`` times some reports only.

Then (unless ``--no-keep``) every kept figure is cleared again and the maintenance a shop's cron or idle app runs
(``report --keep``, ``services/report_upkeep.py``) keeps the closed days afresh, timed; and each report's first run
after it is timed again ('kept first'): the cost of an owner's first report of the day.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_shop import build_shop  # noqa: E402

from shopkeeper.db import close_database, open_database  # noqa: E402
from shopkeeper.services import (  # noqa: E402
    journal_cache, product_sales_cache, report_upkeep, reports, sales_cache, stock_cache)

TABLES = {
    "product": "id BIGINT, sku VARCHAR, name VARCHAR, category VARCHAR, supplier_id BIGINT, on_hand BIGINT, "
               "avg_cost BIGINT, price BIGINT, active BIGINT",
    "supplier": "id BIGINT, name VARCHAR",
    "sale": "id BIGINT, kind VARCHAR, created_at VARCHAR, payment VARCHAR, staff_id BIGINT, terminal_id BIGINT, "
            "total BIGINT, tax BIGINT",
    "sale_line": "id BIGINT, sale_id BIGINT, line_no BIGINT, product_id BIGINT, quantity BIGINT, total BIGINT, "
                 "tax BIGINT, discount BIGINT, tax_rate BIGINT, unit_cost BIGINT",
    "movement": "id BIGINT, product_id BIGINT, kind VARCHAR, quantity BIGINT, unit_cost BIGINT, created_at VARCHAR, "
                "reason VARCHAR",
}


def load_duckdb(shop: Path):
    """DuckDB's own copy of the shop's rows (rebuilt when they changed). Untimed."""
    import duckdb

    target = shop.with_name(shop.name + ".duckdb")
    source = sqlite3.connect(f"file:{shop}?mode=ro", uri=True)
    # the copied rows, by their last ids (append-only tables): the reports' kept sums written into the shop
    # change its file, not these rows, so the copy is reused
    mark = repr([source.execute(f"SELECT COUNT(*), MAX(id) FROM {table}").fetchone() for table in TABLES])
    if target.exists():
        con = duckdb.connect(str(target), read_only=True)
        try:
            if con.execute("SELECT mark FROM copied_from").fetchone()[0] == mark:
                source.close()
                return con
        except duckdb.Error:
            pass
        con.close()
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    with tempfile.TemporaryDirectory() as tmp:
        for table, columns in TABLES.items():
            names = [c.split()[0] for c in columns.split(", ")]
            path = Path(tmp) / f"{table}.csv"
            with path.open("w", newline="") as f:
                writer = csv.writer(f)
                for row in source.execute(f"SELECT {', '.join(names)} FROM {table}"):
                    writer.writerow(row)
            spec = ", ".join(f"'{c.split()[0]}': '{c.split()[1]}'" for c in columns.split(", "))
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{path}', header=false, "
                        f"columns={{{spec}}}, nullstr='')")
            print(f"bench: {table} copied into DuckDB", file=sys.stderr, flush=True)
    source.close()
    con.execute("CREATE TABLE copied_from AS SELECT ? AS mark", [mark])
    con.close()
    return duckdb.connect(str(target), read_only=True)


COGS = ("(CASE WHEN s.kind = 'return' THEN -1 ELSE 1 END) * ((l.quantity * l.unit_cost + 500) // 1000 - "
        "CASE WHEN (l.quantity * l.unit_cost) % 2000 = 500 THEN 1 ELSE 0 END)")
SIGN = "(CASE WHEN s.kind = 'return' THEN -1 ELSE 1 END)"


def duck_queries(lo: str, hi: str, cutoff: str, at: str = "") -> dict[str, list[str]]:
    """The same aggregates as each report, in DuckDB's SQL."""
    lines = f"FROM sale_line l JOIN sale s ON s.id = l.sale_id WHERE s.created_at >= '{lo}' AND s.created_at < '{hi}'"
    per_product = (f"SELECT l.product_id, SUM({SIGN} * l.quantity) AS units, SUM(l.total - l.tax) AS revenue, "
                   f"SUM({COGS}) AS cogs {lines} AND l.product_id IS NOT NULL GROUP BY 1")
    value = "(on_hand * avg_cost + 500) // 1000"
    return {
        "sales": [
            f"SELECT substr(s.created_at, 1, 13), s.kind, COUNT(DISTINCT s.id), SUM(l.total), SUM(l.tax), "
            f"SUM(l.discount), SUM({COGS}) {lines} GROUP BY 1, 2",
            f"SELECT s.kind, s.payment, s.staff_id, s.terminal_id, COALESCE(p.category, ''), l.product_id IS NULL, "
            f"l.tax_rate, SUM(CASE WHEN l.line_no = 1 THEN 1 ELSE 0 END), COUNT(*), SUM(l.total), SUM(l.tax), "
            f"SUM(l.discount), SUM({COGS}) FROM sale_line l JOIN sale s ON s.id = l.sale_id LEFT JOIN product p "
            f"ON p.id = l.product_id WHERE s.created_at >= '{lo}' AND s.created_at < '{hi}' GROUP BY ALL",
        ],
        "best-sellers": [f"SELECT x.*, p.sku, p.name FROM ({per_product}) x JOIN product p ON p.id = x.product_id "
                         "ORDER BY units DESC, product_id LIMIT 20"],
        "worst-sellers": [f"SELECT p.id, COALESCE(x.units, 0) AS u, p.sku, p.name FROM product p LEFT JOIN "
                          f"({per_product}) x ON x.product_id = p.id WHERE p.active = 1 ORDER BY u, p.id LIMIT 20"],
        "slow-movers": [
            f"WITH recent AS (SELECT DISTINCT product_id FROM movement WHERE kind = 'sale' AND created_at >= "
            f"'{cutoff}' AND created_at < '{hi}'), slow AS (SELECT id, {value} AS v FROM product WHERE on_hand > 0 "
            f"AND id NOT IN (SELECT product_id FROM recent) ORDER BY v DESC, id LIMIT 50) SELECT slow.id, "
            f"MAX(m.created_at) FILTER (WHERE m.kind = 'sale'), MAX(m.created_at) FILTER (WHERE m.kind = 'receive') "
            f"FROM slow LEFT JOIN movement m ON m.product_id = slow.id AND m.created_at < '{hi}' GROUP BY slow.id"],
        "valuation": [f"SELECT p.category, COALESCE(s.name, ''), COUNT(*), SUM(on_hand), SUM({value}), "
                      "SUM((on_hand * price + 500) // 1000) FROM product p LEFT JOIN supplier s ON "
                      "s.id = p.supplier_id GROUP BY ALL"],
        # the same reconstruction: each product's stock summed and its last recorded cost (a window per product)
        "valuation --at": [f"SELECT p.category, COALESCE(s.name, ''), COUNT(*) FILTER (WHERE x.q <> 0), SUM(x.q), "
                           "SUM((x.q * x.c + 500) // 1000), SUM((x.q * p.price + 500) // 1000) FROM (SELECT "
                           "product_id, SUM(quantity) AS q, arg_max(unit_cost, id) FILTER (WHERE unit_cost IS NOT "
                           f"NULL) AS c FROM movement WHERE created_at < '{at}' GROUP BY product_id) x JOIN product p "
                           "ON p.id = x.product_id LEFT JOIN supplier s ON s.id = p.supplier_id GROUP BY ALL"],
        "shrinkage": [f"SELECT m.kind, m.reason, m.product_id, substr(m.created_at, 1, 13), SUM(m.quantity), "
                      f"SUM((m.quantity * m.unit_cost + 500) // 1000) FROM movement m WHERE m.kind IN ('adjust', "
                      f"'count') AND m.created_at >= '{lo}' AND m.created_at < '{hi}' GROUP BY ALL"],
        "movement": [
            f"SELECT product_id, kind, SUM(quantity) FROM movement WHERE created_at >= '{lo}' AND created_at < "
            f"'{hi}' GROUP BY 1, 2",
            f"SELECT product_id, SUM(quantity) FROM movement WHERE created_at >= '{hi}' GROUP BY 1",
            "SELECT id, sku, name, on_hand FROM product ORDER BY sku"],
        "abc": [f"SELECT p.id, p.sku, COALESCE(x.revenue, 0) AS r, SUM(GREATEST(COALESCE(x.revenue, 0), 0)) OVER "
                f"(ORDER BY COALESCE(x.revenue, 0) DESC, p.id) FROM product p LEFT JOIN ({per_product}) x ON "
                "x.product_id = p.id WHERE p.active = 1"],
    }


FIRST_CPU = [0.0]
"""The CPU time of the last ``timed`` call's first run: on a busy machine (or a cold page cache, where the first
run waits for the disk) it tells the work from the waiting."""


def timed(call, runs: int) -> tuple[float, float]:
    """(first run, median of the next ``runs``) in milliseconds; the first run's CPU time goes to ``FIRST_CPU``."""
    t, cpu = time.perf_counter(), time.process_time()
    call()
    first = (time.perf_counter() - t) * 1000
    FIRST_CPU[0] = (time.process_time() - cpu) * 1000
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        call()
        times.append((time.perf_counter() - t) * 1000)
    return first, statistics.median(times) if times else first


def _options(name: str, start: dt.date, end: dt.date, at_day: dt.date) -> reports.Options:
    if name == "slow-movers":
        return reports.Options(end=end)
    if name == "valuation --at":
        return reports.Options(at=at_day)
    return reports.Options(start=start, end=end)


def _clear() -> None:
    sales_cache.clear()
    product_sales_cache.clear()
    journal_cache.clear()
    stock_cache.clear()


def kept_by_maintenance(chosen: list[str], start: dt.date, end: dt.date, at_day: dt.date) -> None:
    """The figures kept afresh by the maintenance (``report --keep``) from nothing kept, timed, then each report's
    first run after it: what an owner's first report of the day costs when cron ran the maintenance overnight."""
    _clear()
    t, cpu = time.perf_counter(), time.process_time()
    took = report_upkeep.keep_closed_days()
    print(f"maintenance (report --keep) from nothing kept: {time.perf_counter() - t:.1f}s "
          f"(cpu {time.process_time() - cpu:.1f}s; " + ", ".join(f"{k} {v:.1f}s" for k, v in took.items()) + ")")
    print(f"{'kept first':<14} {'first':>9} {'cpu':>9}")
    for name in chosen:
        if name == "best-sellers -1d":
            continue
        first, _ = timed(lambda name=name: reports.run(name.split()[0], _options(name, start, end, at_day)), 0)
        print(f"{name:<14} {first:>7.0f}ms {FIRST_CPU[0]:>7.0f}ms", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--movements", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365, help="the range: this many days up to the last sale")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--at-days", type=int, default=30, help="valuation --at: this many days before the end")
    parser.add_argument("--no-keep", dest="keep", action="store_false",
                        help="leave out the maintenance step and the first runs after it")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="time only this report (repeatable; 'best-sellers -1d' included), e.g. --only abc")
    args = parser.parse_args(argv)

    path = Path(args.path).expanduser().resolve()
    if path.exists():  # a shop built by older code: bring its schema up to date first, so it is reused
        open_database(str(path))
        close_database()
    build_shop(path, args.products, args.movements)
    duck = load_duckdb(path)
    open_database(str(path))
    _clear()  # the first run below reads every sale line, as a shop's first report does
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    last = con.execute("SELECT MAX(created_at) FROM sale").fetchone()[0]
    con.close()
    end = dt.datetime.fromisoformat(last.replace("Z", "+00:00")).astimezone().date()
    start = end - dt.timedelta(days=args.days - 1)
    lo, hi = reports.local_start(start), reports.local_start(end + dt.timedelta(days=1))
    cutoff = reports.local_start(end - dt.timedelta(days=59))
    at_day = end - dt.timedelta(days=args.at_days)
    queries = duck_queries(lo, hi, cutoff, reports.local_start(at_day + dt.timedelta(days=1)))
    print(f"shop {path.name}: {args.products:,} products, {args.movements:,} movements; {start} to {end} (local), "
          f"median of {args.runs}")
    print(f"{'report':<14} {'first':>9} {'cpu':>9} {'ours':>9} {'duckdb':>9} {'ratio':>7}")
    names = [*reports.REPORTS, "valuation --at", "best-sellers -1d"]
    unknown = sorted(set(args.only or ()) - set(names))
    if unknown:
        parser.error(f"--only: no report named {', '.join(unknown)} (one of: {', '.join(names)})")
    chosen = [name for name in names if not args.only or name in args.only]
    for name in chosen[:-1] if chosen[-1:] == ["best-sellers -1d"] else chosen:
        opts = _options(name, start, end, at_day)
        first, ours = timed(lambda name=name, opts=opts: reports.run(name.split()[0], opts), args.runs)
        cpu = FIRST_CPU[0]
        _, theirs = timed(lambda name=name: [duck.execute(q).fetchall() for q in queries[name]], args.runs)
        print(f"{name:<14} {first:>7.0f}ms {cpu:>7.0f}ms {ours:>7.0f}ms {theirs:>7.0f}ms {ours / theirs:>6.2f}x",
              flush=True)
    if args.keep:
        kept_by_maintenance(chosen, start, end, at_day)
    if "best-sellers -1d" not in chosen:
        close_database()
        return 0
    day = dt.timedelta(days=1)
    opts = reports.Options(start=start - day, end=end - day)
    first, ours = timed(lambda: reports.run("best-sellers", opts), args.runs)
    cpu = FIRST_CPU[0]
    queries = duck_queries(reports.local_start(start - day), reports.local_start(end), cutoff)
    _, theirs = timed(lambda: [duck.execute(q).fetchall() for q in queries["best-sellers"]], args.runs)
    print(f"{'best-sellers -1d':<14} {first:>7.0f}ms {cpu:>7.0f}ms {ours:>7.0f}ms {theirs:>7.0f}ms "
          f"{ours / theirs:>6.2f}x",
          flush=True)
    close_database()
    return 0


if __name__ == "__main__":
    sys.exit(main())
