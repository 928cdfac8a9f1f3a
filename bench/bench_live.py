"""Commit on one till -> the row repainted on another: how long, on SQLite (polling ``PRAGMA data_version``) and on
PostgreSQL (LISTEN/NOTIFY).

    python bench/bench_live.py [--commits 200] [--pg postgresql://...]   (the PostgreSQL database is WIPED)

The app runs headless (``App.run_test``) on its stock screen, over the twelve-product test shop. Another process,
the other till, sells one unit of WATER-1.5 through ``sales.sell`` each time the driver asks, and answers with the
``time.perf_counter()`` just after its commit returned (CLOCK_MONOTONIC: one clock for every process on the
machine). The latency of a commit is from then until the stock table renders the WATER-1.5 row with the new
quantity (``StockSource.cells`` called for it: the row is being painted). Commits are spaced by a random 20-350 ms so
they land anywhere in the polling period. Target on PostgreSQL: p99 < 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SKU = "WATER-1.5"
TARGET_P99 = 0.150

OTHER_TILL = """
import sys, time
from shopkeeper.db import open_database
from shopkeeper.services import sales
from shopkeeper.services.context import Context
open_database(sys.argv[1])
ctx = Context(staff="Ana", terminal="till-2", negative_stock="allow")
for line in sys.stdin:
    sales.sell(ctx, [sales.LineInput("WATER-1.5", 1000)], payment="card")
    print(repr(time.perf_counter()), flush=True)
"""


def prepare(location: str) -> None:
    from shopkeeper.db import close_database, open_database
    from shopkeeper.services.context import Context
    from tests.tui.shop_data import seed_shop

    db = open_database(location)
    if location.startswith("postgres"):
        db.execute_sql("DROP SCHEMA public CASCADE")
        db.execute_sql("CREATE SCHEMA public")
        close_database()
        open_database(location)
    seed_shop(Context(staff="Sam", terminal="till-1", negative_stock="allow", default_tax_rate=7_000))


async def measure(location: str, commits: int) -> list[float]:
    from shopkeeper.config import Config
    from shopkeeper.models import Product
    from shopkeeper.services.context import Context
    from shopkeeper.tui.app import ShopkeeperApp
    from shopkeeper.tui.screens import stock

    painted: dict[int, float] = {}
    real_cells = stock.StockSource.cells

    def cells(self, row):
        if row.sku == SKU and row.on_hand not in painted:
            painted[row.on_hand] = time.perf_counter()
        return real_cells(self, row)

    stock.StockSource.cells = cells
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    other = await asyncio.create_subprocess_exec(sys.executable, "-c", OTHER_TILL, location, env=env,
                                                 stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    app = ShopkeeperApp(location, Config(), Context(staff="Sam", terminal="till-1"))
    latencies: list[float] = []
    rng = random.Random(7)
    try:
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.pause(0.5)
            on_hand = Product.get(Product.sku == SKU).on_hand
            for _ in range(commits):
                await asyncio.sleep(rng.uniform(0.02, 0.35))
                other.stdin.write(b"sell\n")
                await other.stdin.drain()
                committed = float((await other.stdout.readline()).decode())
                on_hand -= 1000
                deadline = time.perf_counter() + 5
                while on_hand not in painted and time.perf_counter() < deadline:
                    await asyncio.sleep(0.001)
                if on_hand not in painted:
                    raise SystemExit(f"row never repainted with {on_hand}")
                latencies.append(painted[on_hand] - committed)
    finally:
        other.stdin.close()
        await other.wait()
        stock.StockSource.cells = real_cells
    return latencies


def report(name: str, latencies: list[float], target: float | None) -> bool:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    verdict = "" if target is None else ("  OK" if p99 < target else "  ABOVE TARGET")
    print(f"  {name:10s} p50 {p50 * 1000:6.1f} ms   p99 {p99 * 1000:6.1f} ms   max {ordered[-1] * 1000:6.1f} ms"
          f"   ({len(ordered)} commits){verdict}")
    return target is None or p99 < target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--pg", default=os.environ.get("SHOPKEEPER_BENCH_PG") or os.environ.get("SHOPKEEPER_TEST_PG"),
                        help="a PostgreSQL URL that may be wiped (default $SHOPKEEPER_BENCH_PG)")
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    args = parser.parse_args()
    from shopkeeper.db import close_database

    print(f"bench_live: commit on one till -> row repainted on another  ({platform.python_version()}, "
          f"{platform.node()})")
    print(f"  command: {shlex.join([sys.executable, *sys.argv])}")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        if args.only != "postgres":
            runs.append(("sqlite", str(Path(tmp) / "shop.db"), None))
        if args.pg and args.only != "sqlite":
            runs.append(("postgresql", args.pg, TARGET_P99))
        for name, location, target in runs:
            prepare(location)
            latencies = asyncio.run(measure(location, args.commits))
            close_database()
            ok = report(name, latencies, target) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
