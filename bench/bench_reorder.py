"""Reorder points learned from demand against "two weeks of average sales", in a simulated year; and what learning
costs a big shop.

    python bench/bench_reorder.py                 # the simulation (about a minute)
    python bench/bench_reorder.py --shop /tmp/shop10m.db   # also: recompute 100k products over 10M movements,
                                                            # and what one sale costs the low-stock pane

**The simulation.** 1,000 products, a seeded generator: steady, trending (down or up over the year), weekly
seasonal (busy weekends), yearly seasonal, and intermittent (a sale every few days or weeks, in lumps) sellers;
each has a supplier lead time of 1–14 days, a pack size (1, 6, 12 or 24, bigger for faster sellers) and a unit
cost. Every morning deliveries due arrive, then the shop orders what its policy suggests from the inventory
position (on hand + on order), to arrive after the lead time; then the day's customers come, and what is not on
the shelf is a lost sale — so the history the learned policy reads is censored, as a real shop's is.

Both policies start from the same stock and the same typed reorder points ("two weeks of average sales", ordering
up to twice that in whole packs: the shop's rule for a manual reorder point) for an 8-week warm-up that gives the
learned policy its first window; then one year is measured:

* fixed: the typed points, never changed (today's model);
* learned: every week the shop's own learning step (``demand.learn_product``, as ``reorder.recompute`` runs it)
  on the last 8 weeks of the simulated journal, stock-out days censored, service level 95 %, review period one day
  (orders go out every morning); orders up to the learned target in whole packs (``reorder.suggest_order``);
* learned, orders once a week: the same, for a supplier taking orders every 7 days (review period 7 days: the
  reorder point covers lead time + 7 days, the target a week more), orders placed only on its day.

Printed per policy: fill rate (units sold ÷ units demanded), stock-out days (product-days on which a customer
found none), average stock value at cost; and per kind of seller. Target: learned fill rate ≥ 97 % with an average
stock value no higher than the fixed rule's.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shopkeeper.config import ReorderSection
from shopkeeper.services import demand
from shopkeeper.services.reorder import AUTO, MANUAL, suggest_order

SEED = 20261128
PRODUCTS = 1000
DAYS = 365
SETTINGS = ReorderSection()  # the defaults a shop gets: 8 weeks, 95 %, auto method, 14 days minimum
WINDOW = SETTINGS.window_weeks * 7
WARMUP = WINDOW
REVIEW_DAYS = 1  # the shop orders every morning
KINDS = ("steady", "trending", "weekly", "yearly", "intermittent")
WEEKLY = (0.8, 0.8, 0.9, 1.0, 1.2, 1.6, 0.7)
U = demand.UNIT


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


@dataclass
class Item:
    kind: str
    lead: int
    pack: int  # thousandths
    cost: int  # minor units per unit
    demand: list[int]  # units wanted per day, warm-up included
    fixed_point: int  # thousandths: two weeks of average sales, as typed


def make_items(rng: random.Random) -> list[Item]:
    items = []
    total = WARMUP + DAYS
    for i in range(PRODUCTS):
        kind = KINDS[i % len(KINDS)]
        lead = rng.randint(1, 14)
        cost = rng.randint(50, 2000)
        base = rng.lognormvariate(math.log(6), 0.9)
        if kind == "intermittent":
            p, lumpy = rng.uniform(0.03, 0.3), rng.random() < 0.5
            wanted = [(rng.randint(1, 8) if lumpy else rng.choice((1, 1, 1, 2))) if rng.random() < p else 0
                      for _ in range(total)]
            rate = p * (4.5 if lumpy else 1.25)
        else:
            slope, phase = rng.uniform(-0.6, 1.0), rng.uniform(0, 365)

            def at(t: int) -> float:
                if kind == "trending":
                    return base * max(0.1, 1 + slope * (t - WARMUP) / 365)
                if kind == "weekly":
                    return base * WEEKLY[t % 7] / (sum(WEEKLY) / 7)
                if kind == "yearly":
                    return base * (1 + 0.6 * math.sin(2 * math.pi * (t + phase) / 365))
                return base

            wanted = [poisson(rng, at(t)) for t in range(total)]
            rate = sum(at(t) for t in range(WARMUP)) / WARMUP  # what the owner saw before typing the point
        pack = rng.choice((6, 12, 24)) if rate >= 3 else (rng.choice((1, 6)) if rate >= 1 else 1)
        items.append(Item(kind, lead, pack * U, cost, wanted, max(U, round(14 * rate) * U)))
    return items


@dataclass
class Result:
    demanded: int = 0
    sold: int = 0
    stockout_days: int = 0
    stock_value: int = 0  # sum over measured days of the stock at cost at the day's end
    orders: int = 0
    by_kind: dict = field(default_factory=dict)

    def fill(self) -> float:
        return self.sold / self.demanded if self.demanded else 1.0


def simulate(items: list[Item], learned: bool, review: int = REVIEW_DAYS) -> Result:
    """One policy over warm-up and year; orders go out every ``review`` days (every morning by default)."""
    total = WARMUP + DAYS
    n = len(items)
    on_hand = [it.fixed_point + it.demand[0] * U * it.lead for it in items]
    on_order = [0] * n
    arriving: list[dict[int, int]] = [{} for _ in items]
    point = [it.fixed_point for it in items]
    qty = [0] * n  # manual: no reorder quantity → order up to twice the point; auto: the target
    mode = [MANUAL] * n
    sold_hist = [[0] * total for _ in items]
    net_hist = [[0] * total for _ in items]
    result = Result(by_kind={k: [0, 0, 0] for k in KINDS})  # demanded, sold, stock-out days
    level = float(SETTINGS.service_level)
    for t in range(total):
        if learned and t >= WARMUP and (t - WARMUP) % 7 == 0:
            for i, it in enumerate(items):
                sold, net = sold_hist[i], net_hist[i]
                moves = {t - d: (sold[d], net[d]) for d in range(t - WINDOW, t) if sold[d] or net[d]}
                _, figures = demand.learn_product(on_hand[i], moves, window=WINDOW, lead_days=it.lead,
                                                  review_days=review, service_level=level,
                                                  method=SETTINGS.method, min_days=SETTINGS.min_days)
                if figures is not None:
                    point[i], qty[i], mode[i] = figures.reorder_point, figures.target, AUTO
        measured = t >= WARMUP
        value = 0
        for i, it in enumerate(items):
            got = arriving[i].pop(t, 0)
            if got:
                on_hand[i] += got
                on_order[i] -= got
            order = (suggest_order(on_hand[i], point[i], qty[i], mode=mode[i], on_order=on_order[i], pack=it.pack)
                     if t % review == 0 else 0)
            if order:
                arriving[i][t + it.lead] = arriving[i].get(t + it.lead, 0) + order
                on_order[i] += order
                result.orders += measured
            wanted = it.demand[t] * U
            sold = min(wanted, max(on_hand[i], 0))
            on_hand[i] -= sold
            sold_hist[i][t], net_hist[i][t] = sold, got - sold
            if measured:
                result.demanded += wanted
                result.sold += sold
                kind = result.by_kind[it.kind]
                kind[0] += wanted
                kind[1] += sold
                if sold < wanted:
                    result.stockout_days += 1
                    kind[2] += 1
                value += on_hand[i] * it.cost // U
        result.stock_value += value
    return result


def run_simulation() -> bool:
    rng = random.Random(SEED)
    started = time.perf_counter()
    items = make_items(rng)
    fixed = simulate(items, learned=False)
    learned = simulate(items, learned=True)
    weekly = simulate(items, learned=True, review=7)
    seconds = time.perf_counter() - started
    print(f"Simulated shop: {PRODUCTS:,} products ({', '.join(KINDS)} sellers), lead times 1-14 days, "
          f"{DAYS} days measured after a {WARMUP}-day warm-up, seed {SEED} ({seconds:.1f} s)")
    print(f"learned: window {WINDOW} days, service level {SETTINGS.service_level}, recomputed weekly, orders every "
          "morning; fixed: reorder point = 14 days of average sales, order up to twice it\n")
    print(f"{'policy':<28}{'fill rate':>10}{'stock-out days':>16}{'avg stock value':>17}{'orders':>9}")
    policies = (("fixed", fixed), ("learned", learned), ("learned, orders once a week", weekly))
    for name, r in policies:
        print(f"{name:<28}{r.fill():>10.2%}{r.stockout_days:>16,}{r.stock_value / DAYS / 100:>17,.2f}{r.orders:>9,}")
    print("\nfill rate by kind of seller:   " + "  ".join(f"{k:>12}" for k in KINDS))
    for name, r in policies:
        print(f"  {name:<28}" + "  ".join(f"{r.by_kind[k][1] / max(1, r.by_kind[k][0]):>12.2%}" for k in KINDS))
    ok = learned.fill() >= 0.97 and learned.stock_value <= fixed.stock_value
    print(f"\ntarget (learned fill rate >= 97 %, average stock value <= fixed): {'met' if ok else 'NOT met'}")
    return ok


def run_shop(path: str) -> None:
    """Time ``reorder.recompute`` on a bench shop (``bench/make_shop.py``) and what one sale costs the pane."""
    import sqlite3

    from shopkeeper.db import open_database
    from shopkeeper.models import Movement, Product
    from shopkeeper.services import queries, reorder, sales
    from shopkeeper.services.context import Context

    from make_shop import END

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    products, movements = con.execute("SELECT products, movements FROM bench_meta").fetchone()
    con.close()
    open_database(path)  # brings the schema up to date (the product_position index)
    today = END.date()  # the generated journal ends the day before (sales this bench rings up come later)
    print(f"\nShop {path}: {products:,} products, {movements:,} movements (journal up to {today})")
    for weeks in (8, 104):
        settings = ReorderSection(window_weeks=weeks)
        Product.update(reorder_mode=AUTO, reorder_point=0, reorder_qty=0).execute()  # every figure changes
        times, cpu = [], []
        for _ in range(2):
            started, used = time.perf_counter(), time.process_time()
            result = reorder.recompute(None, settings=settings, today=today)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
        window_moves = Movement.select().where(
            (Movement.created_at >= reorder.window_start(today, weeks * 7).isoformat())
            & (Movement.created_at < today.isoformat())).count()
        print(f"recompute, {weeks}-week window ({window_moves:,} movements in it, {result.movements_days:,} "
              f"product-hour groups): {times[0]:.2f} s ({cpu[0]:.2f} s CPU) storing {products:,} products' figures, "
              f"{times[1]:.2f} s ({cpu[1]:.2f} s CPU) when nothing changed (target < 10 s)")
    # One sale, then what the low-stock pane re-reads: the count and its first window, from cached columns.
    ctx = Context(staff="bench", terminal="bench", negative_stock="allow")
    sku = Product.select(Product.sku).where(Product.on_hand > 5000).order_by(Product.id).first().sku
    started = time.perf_counter()
    sales.sell(ctx, [sales.LineInput(sku, 1000)], payment="card")
    sale = time.perf_counter() - started
    reads = []
    for _ in range(21):
        started = time.perf_counter()
        queries.low_stock_count()
        queries.low_stock_window(0, 30)
        reads.append(time.perf_counter() - started)
    first = reads[0]
    reads.sort()
    print(f"one sale: {sale * 1000:.1f} ms (it updates on_hand, as always); the low-stock pane afterwards: "
          f"{first * 1000:.1f} ms the first read, {reads[len(reads) // 2] * 1000:.1f} ms median (count + first 30 "
          "rows; cached columns, no recompute, "
          f"{queries.low_stock_count():,} products low)")
    from shopkeeper.models import database

    plan = database.execute_sql("EXPLAIN QUERY PLAN SELECT id FROM product WHERE " + reorder.LOW_SQL).fetchall()
    print("low-stock plan: " + "; ".join(row[-1] for row in plan))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shop", help="a bench shop (bench/make_shop.py) to time recompute and the pane on")
    parser.add_argument("--no-simulation", action="store_true")
    args = parser.parse_args(argv)
    ok = True
    if not args.no_simulation:
        ok = run_simulation()
    if args.shop:
        run_shop(args.shop)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
