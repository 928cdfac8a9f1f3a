"""Sales per second: the sales service against the same two statements in raw sqlite3.

    python bench/bench_sales.py [--sales 2000] [--products 100000] [--movements 1000000]

On a copy of a shop of N products / M movements (built once by ``make_shop.py`` and cached), commits one-line
sales of 1 unit of a random product, each in its own write transaction, three ways:

- raw:     sqlite3, ``BEGIN IMMEDIATE``; INSERT INTO movement …; UPDATE product SET on_hand = on_hand - 1000 …;
           ``COMMIT`` (product picked by id, no lookup, no sale row);
- service: ``shopkeeper.services.sales.sell(ctx, [LineInput(barcode, 1000)], payment="card")`` — barcode lookup,
           pricing, the sale, its line and its movement, the stock update;
- unchained: the service with the hash chain's sealing switched off (``services/chain.py``): what the chain costs
           is service against unchained (target: service ≥ 0.9 × unchained). On SQLite the chain links rows in
           batches: the service side's rounds include linking every sale they made (every ``chain.SEAL_EVERY``
           commits, and whatever a round leaves at its end), and the other sides' rows are linked between rounds,
           outside the timing;
- naive:   Peewee models, ``Movement.create(...)`` + ``Product.update(...).execute()`` in ``db.atomic()``.

All three share the database file, WAL and ``synchronous=FULL`` (the shop's pragmas), and run in rounds in a rotating
order, so disk and machine noise hit them alike. Target: service ≥ 0.6 × raw.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import peewee
from make_shop import barcode_for, build_shop, seal_shop

from shopkeeper.db import SQLITE_PRAGMAS, close_database, open_database, utcnow
from shopkeeper import db as shop_db
from shopkeeper.models import Movement, Product, database
from shopkeeper.services import chain
from shopkeeper.services.context import Context, staff_id, terminal_id
from shopkeeper.services.sales import LineInput, sell

TARGET = 0.6
SIDES = ("raw", "service", "unchained", "naive")
CHAIN_TARGET = 0.9

RAW_INSERT = (
    "INSERT INTO movement (product_id, kind, quantity, unit_cost, unit_price, reason, staff_id, terminal_id, "
    "created_at, reference, sale_id, count_session_id) VALUES (?, 'sale', -1000, ?, ?, '', ?, ?, ?, '', NULL, NULL)"
)
RAW_UPDATE = "UPDATE product SET on_hand = on_hand - 1000 WHERE id = ?"


def default_shop(products: int, movements: int) -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shopkeeper-bench"
    return cache / f"shop-{products}-{movements}.db"


class Raw:
    """The two statements, on a plain sqlite3 connection with the shop's pragmas."""

    def __init__(self, path: Path, staff: int | None, terminal: int | None, synchronous: str) -> None:
        self.con = sqlite3.connect(path, isolation_level=None, timeout=10)
        for name, value in SQLITE_PRAGMAS.items():
            self.con.execute(f"PRAGMA {name}={value}")
        self.con.execute("PRAGMA busy_timeout=10000")
        self.con.execute(f"PRAGMA synchronous={synchronous}")
        self.staff, self.terminal = staff, terminal

    def run(self, work: list[tuple[int, str, int, int]]) -> None:
        execute = self.con.execute
        for pid, _code, cost, price in work:
            execute("BEGIN IMMEDIATE")
            execute(RAW_INSERT, (pid, cost, price, self.staff, self.terminal, utcnow()))
            execute(RAW_UPDATE, (pid,))
            execute("COMMIT")

    def close(self) -> None:
        self.con.close()


class Service:
    """The sales service with the chain: every sale's rows are linked inside this side's timed rounds (on SQLite in
    batches, every ``chain.SEAL_EVERY`` commits, and what a round leaves unlinked at its end)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, work: list[tuple[int, str, int, int]]) -> None:
        ctx = self.ctx
        for _pid, code, _cost, _price in work:
            sell(ctx, [LineInput(code, 1000)], payment="card")
        chain.seal_pending()


class Unchained(Service):
    """The service with the chain's seal left out of every commit (its rows are linked after the run)."""

    def run(self, work: list[tuple[int, str, int, int]]) -> None:
        shop_db._before_commit_hooks.remove(chain.seal)
        try:
            ctx = self.ctx
            for _pid, code, _cost, _price in work:
                sell(ctx, [LineInput(code, 1000)], payment="card")
        finally:
            shop_db._before_commit_hooks.append(chain.seal)
            chain._discard()


class Naive:
    def __init__(self, staff: int | None, terminal: int | None) -> None:
        self.staff, self.terminal = staff, terminal

    def run(self, work: list[tuple[int, str, int, int]]) -> None:
        db = database.obj
        for pid, _code, cost, price in work:
            with db.atomic():
                Movement.create(product=pid, kind="sale", quantity=-1000, unit_cost=cost, unit_price=price,
                                staff=self.staff, terminal=self.terminal, created_at=utcnow())
                Product.update(on_hand=Product.on_hand - 1000).where(Product.id == pid).execute()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sales", type=int, default=2000, help="sales per side (default 2000)")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--movements", type=int, default=1_000_000)
    parser.add_argument("--round", type=int, default=100, help="sales per side per round (default 100)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed sales per side first (default 50)")
    parser.add_argument("--only", choices=SIDES, action="append", help="run only this side (repeatable)")
    parser.add_argument("--shop", type=Path, help="cached shop to copy (default: ~/.cache/shopkeeper-bench/…)")
    parser.add_argument("--workdir", type=Path, help="where the working copy goes (default: next to the shop)")
    parser.add_argument("--keep", action="store_true", help="keep the working copy")
    parser.add_argument("--no-check", action="store_true", help="skip `shopkeeper check` on the copy afterwards")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--synchronous", choices=("FULL", "NORMAL", "OFF"), default="FULL",
                        help="diagnosis only: OFF takes fsync out and shows the CPU cost per sale (default FULL)")
    args = parser.parse_args(argv)
    sides = [s for s in SIDES if not args.only or s in args.only]

    shop = args.shop or default_shop(args.products, args.movements)
    shop.parent.mkdir(parents=True, exist_ok=True)
    build_shop(shop, args.products, args.movements)
    seal_shop(shop)
    workdir = args.workdir or shop.parent
    fd, name = tempfile.mkstemp(prefix="bench-sales-", suffix=".db", dir=workdir)
    os.close(fd)
    work_db = Path(name)
    shutil.copyfile(shop, work_db)

    try:
        open_database(str(work_db))
        database.execute_sql(f"PRAGMA synchronous={args.synchronous}")
        sync_level = {0: "OFF", 1: "NORMAL", 2: "FULL"}[database.execute_sql("PRAGMA synchronous").fetchone()[0]]
        assert sync_level == args.synchronous
        ctx = Context(staff="bench", terminal="bench-1")
        staff, terminal = staff_id(ctx), terminal_id(ctx)
        prices = dict(database.execute_sql("SELECT id, price FROM product").fetchall())
        costs = dict(database.execute_sql("SELECT id, avg_cost FROM product").fetchall())
        rng = random.Random(args.seed)

        def batch(n: int) -> list[tuple[int, str, int, int]]:
            pids = [rng.randint(1, args.products) for _ in range(n)]
            return [(pid, barcode_for(pid), costs[pid], prices[pid]) for pid in pids]

        runners = {}
        if "raw" in sides:
            runners["raw"] = Raw(work_db, staff, terminal, args.synchronous)
        if "service" in sides:
            runners["service"] = Service(ctx)
        if "unchained" in sides:
            runners["unchained"] = Unchained(ctx)
        if "naive" in sides:
            runners["naive"] = Naive(staff, terminal)

        for side in sides:
            runners[side].run(batch(args.warmup))
        chain.seal_pending()

        elapsed = dict.fromkeys(sides, 0.0)
        cpu = dict.fromkeys(sides, 0.0)  # this process's CPU time: what a busy neighbour does not inflate
        done = dict.fromkeys(sides, 0)
        round_rates: dict[str, list[float]] = {s: [] for s in sides}
        r = 0
        while any(done[s] < args.sales for s in sides):
            order = sides[r % len(sides):] + sides[: r % len(sides)]
            for side in order:
                n = min(args.round, args.sales - done[side])
                if n <= 0:
                    continue
                work = batch(n)
                t0, c0 = time.perf_counter(), time.process_time()
                runners[side].run(work)
                dt_ = time.perf_counter() - t0
                cpu[side] += time.process_time() - c0
                if side != "service":  # what the other sides wrote is linked here, untimed: the service side
                    chain.seal_pending()  # pays for linking its own sales and nothing else
                elapsed[side] += dt_
                done[side] += n
                round_rates[side].append(n / dt_)
            r += 1
        if "raw" in runners:
            runners["raw"].close()
        for stream in chain.STREAMS:  # what the unchained side and the raw/naive sides wrote
            chain.seal_unlinked(stream)
        close_database()

        rates = {s: done[s] / elapsed[s] for s in sides}
        print(f"command: python {shlex.join(['bench/bench_sales.py', *(argv if argv is not None else sys.argv[1:])])}")
        print(f"shop:    {args.products:,} products, {args.movements:,} movements (copy of {shop})")
        print(f"setup:   WAL, synchronous={sync_level}, one sale per transaction (BEGIN IMMEDIATE), {r} rounds of "
              f"{args.round}, rotating order, {args.warmup} warm-up sales per side")
        print(f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, peewee {peewee.__version__}, "
              f"{platform.machine()}, {os.cpu_count()} CPUs")
        print()
        print(f"{'side':<9} {'sales':>7} {'seconds':>8} {'sales/s':>8} {'median/round':>13} {'× raw':>7} "
              f"{'CPU µs/sale':>12}")
        for side in sides:
            ratio = f"{rates[side] / rates['raw']:.2f}" if "raw" in rates else "-"
            print(f"{side:<9} {done[side]:>7} {elapsed[side]:>8.2f} {rates[side]:>8.0f} "
                  f"{statistics.median(round_rates[side]):>13.0f} {ratio:>7} {cpu[side] / done[side] * 1e6:>12.0f}")
        if "raw" in rates and "service" in rates:
            # Two views: over the whole run (stalls included), and the median of per-round ratios, which a disk
            # stall or a neighbour's burst in one round does not move. The verdict takes the lower.
            ratio = rates["service"] / rates["raw"]
            paired = statistics.median(s / r for s, r in zip(round_rates["service"], round_rates["raw"]))
            verdict = "meets" if min(ratio, paired) >= TARGET else "MISSES"
            print(f"\nservice / raw = {ratio:.2f} over the run, {paired:.2f} median of rounds "
                  f"({verdict} the target of {TARGET})")

        if "service" in rates and "unchained" in rates:
            ratio = rates["service"] / rates["unchained"]
            paired = statistics.median(s / u for s, u in zip(round_rates["service"], round_rates["unchained"]))
            verdict = "meets" if min(ratio, paired) >= CHAIN_TARGET else "MISSES"
            print(f"with chain / without = {ratio:.2f} over the run, {paired:.2f} median of rounds "
                  f"({verdict} the target of {CHAIN_TARGET}); in CPU time {cpu['unchained'] / cpu['service']:.2f} "
                  f"(the chain's CPU: {(cpu['service'] - cpu['unchained']) / done['service'] * 1e6:.0f} µs a sale)")

        if not args.no_check:
            proc = subprocess.run([sys.executable, "-m", "shopkeeper", "--db", str(work_db), "check"],
                                  cwd=ROOT, capture_output=True, text=True)
            print(f"check:   {(proc.stdout or proc.stderr).strip().splitlines()[-1]} (exit {proc.returncode})")
            if proc.returncode:
                return 1
    finally:
        if not args.keep:
            for p in (work_db, Path(f"{work_db}-wal"), Path(f"{work_db}-shm")):
                p.unlink(missing_ok=True)
        else:
            print(f"kept:    {work_db}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
