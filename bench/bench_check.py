"""How long ``shopkeeper check`` takes on a big shop, chains included, against the check before the chain.

    python bench/bench_check.py [--products 100000] [--movements 10000000] [--shop PATH] [--tail 10000]

On a shop built once by ``make_shop.py`` (its rows linked into the hash chains once, and a checkpoint stored, by
``make_shop.seal_shop``), in one run:

- baseline: the stock check as it was (``SUM(quantity) … GROUP BY product_id`` over the whole journal, which SQLite
  answers by walking the (product, id) index and reading the table row by row);
- sums:     the whole journal summed by a full scan in Python (``chain_check.journal_sums``: what ``--full`` and a
  check without a checkpoint use);
- check:    ``chain_check.check()``: checkpoint verified, chains verified after it, stock = checkpoint + tail;
- tail:     re-hashing the last ``--tail`` links of every stream (what ``check`` adds per rows written since the
  checkpoint; a new checkpoint is stored once 10,000 came after the last);
- full:     ``chain_check.check(full=True)`` (every row re-hashed), unless ``--no-full``.

Target: check under 5 s at 10M movements. Nothing is written (``store=False``).
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from make_shop import build_shop, seal_shop

from shopkeeper.db import close_database, open_database
from shopkeeper.models import database
from shopkeeper.services import chain
from shopkeeper.services.audit import check_stock
from shopkeeper.services.chain_check import check, journal_sums

TARGET = 5.0


def timed(what, *args, **kwargs):
    started = time.perf_counter()
    result = what(*args, **kwargs)
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--movements", type=int, default=10_000_000)
    parser.add_argument("--shop", type=Path, help="cached shop (default: ~/.cache/shopkeeper-bench/…)")
    parser.add_argument("--tail", type=int, default=10_000, help="links per stream re-hashed as a tail")
    parser.add_argument("--no-full", action="store_true", help="skip check --full (minutes at 10M)")
    parser.add_argument("--reuse", action="store_true", help="use the shop at --shop as it is, even if built by an "
                                                            "older schema (it is migrated, never rebuilt)")
    args = parser.parse_args(argv)
    shop = args.shop or (Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shopkeeper-bench"
                         / f"shop-{args.products}-{args.movements}.db")
    shop.parent.mkdir(parents=True, exist_ok=True)
    if not (args.reuse and shop.exists()):
        build_shop(shop, args.products, args.movements)
    seal_shop(shop)

    open_database(str(shop))
    try:
        database.execute_sql("SELECT COUNT(*) FROM product").fetchone()  # warm the connection
        rows = {s: chain.tip(s)[0] for s in chain.STREAMS}
        print(f"shop:    {args.products:,} products, {rows['movement']:,} movements, {rows['sale']:,} sales, "
              f"{rows['audit']:,} audit events ({shop}, {shop.stat().st_size / 1e9:.1f} GB)")
        print(f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, {platform.machine()}, "
              f"{os.cpu_count()} CPUs")
        print()
        base, (_, mismatches) = timed(check_stock)
        print(f"{'baseline (GROUP BY via index)':<34} {base:7.2f} s   1.00   {len(mismatches)} mismatches")
        sums_s, _ = timed(journal_sums)
        print(f"{'sums (full scan in Python)':<34} {sums_s:7.2f} s   {sums_s / base:.2f}")
        check_s, report = timed(check, store=False)
        print(f"{'check (from checkpoint ' + str(report.checkpoint) + ')':<34} {check_s:7.2f} s   "
              f"{check_s / base:.2f}   {'ok' if report.ok else 'NOT OK'}; {report.head}")
        tail_s = 0.0
        for stream in chain.STREAMS:
            start = max(rows[stream] - args.tail, 0)
            spent, done = timed(chain.verify, stream, start, sums=stream == "movement")
            tail_s += spent
            assert done.brk is None, done.brk
        print(f"{'+ tail of ' + format(args.tail, ',') + ' rows per stream':<34} {tail_s:7.2f} s   "
              f"{tail_s / base:.2f}   (check with that tail: {check_s + tail_s:.2f} s; "
              f"{'meets' if check_s + tail_s < TARGET else 'MISSES'} the target of {TARGET:.0f} s)")
        if not args.no_full:
            full_s, full = timed(check, full=True, store=False)
            print(f"{'check --full (every row re-hashed)':<34} {full_s:7.2f} s   {full_s / base:.2f}   "
                  f"{'ok' if full.ok else 'NOT OK'}")
    finally:
        close_database()
    return 0


if __name__ == "__main__":
    sys.exit(main())
