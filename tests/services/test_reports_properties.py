"""Property: whatever happens in the shop (sales with weighed goods, one-off lines and discounts, refunds, receipts,
adjustments, counts; tax-inclusive or exclusive prices; a clock that runs over local midnight), every report ties
out with a full recomputation from the sale and journal rows — also once figures are kept and sales stamped inside
kept days commit late."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopkeeper.db import close_database, open_database
from shopkeeper.errors import ShopError
from shopkeeper.models import Movement, Payment, Product, Sale, SaleLine
from shopkeeper.money import extend
from shopkeeper.services import journal_cache, product_sales_cache, report_upkeep, reports, sales, sales_cache, stock
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.context import Context
from shopkeeper.services.tenders import Tender

SKUS = ["A", "B", "KG"]  # KG is sold by weight
qty = st.integers(1, 4_000)
line = st.one_of(st.tuples(st.sampled_from(SKUS), qty, st.integers(0, 50)),
                 st.tuples(st.none(), qty, st.integers(0, 50)))
payment = st.one_of(st.sampled_from(sales.PAYMENTS),  # one method, or split: some on card, the rest in cash
                    st.integers(1, 400).map(lambda card: (Tender("card", card), Tender("cash"))))
op = st.one_of(
    st.tuples(st.just("receive"), st.sampled_from(SKUS), qty, st.integers(0, 900)),
    st.tuples(st.just("adjust"), st.sampled_from(SKUS), st.integers(-3_000, 3_000),
              st.sampled_from(["damaged", "found", "stolen"])),
    st.tuples(st.just("count"), st.sampled_from(SKUS), st.integers(0, 8_000)),
    st.tuples(st.just("sell"), st.lists(line, min_size=1, max_size=3), payment, st.integers(0, 30)),
    st.tuples(st.just("refund"), st.integers(1, 8), st.sampled_from([*SKUS, None]), qty),
)
late_op = st.one_of(  # a sale or refund stamped earlier than it commits (per mille into what has elapsed)
    st.tuples(st.tuples(st.just("sell"), st.lists(line, min_size=1, max_size=3), payment, st.integers(0, 30)),
              st.integers(0, 1000)),
    st.tuples(st.tuples(st.just("refund"), st.integers(1, 8), st.sampled_from([*SKUS, None]), qty),
              st.integers(0, 1000)),
)


@pytest.fixture
def local_zone(monkeypatch):
    """A zone with a half-hour offset: local days do not start on a UTC hour."""
    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


class Clock:
    """A fake ``utcnow`` for the services: starts late in a local evening and moves on by a drawn step."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> str:
        return self.now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _local_day(utc_text: str) -> dt.date:
    return dt.datetime.fromisoformat(utc_text.replace("Z", "+00:00")).astimezone().date()


def _apply(ctx: Context, step: tuple) -> None:
    if step[0] == "receive":
        stock.receive(ctx, step[1], step[2], step[3])
    elif step[0] == "adjust":
        stock.adjust(ctx, step[1], step[2], step[3])
    elif step[0] == "count":
        stock.count(ctx, step[1], step[2])
    elif step[0] == "sell":
        # weighed goods by the gram (at least 100 g), pieces whole; every line is worth more than its discount
        items = [sales.LineInput(sku, max(q, 100) if sku == "KG" else max(1, q // 1000) * 1000,
                                 unit_price=None if sku else 333, description="" if sku else "one-off",
                                 discount=disc) for sku, q, disc in step[1]]
        if isinstance(step[2], str):
            sales.sell(ctx, items, payment=step[2], discount=step[3])
        else:
            sales.sell(ctx, items, payments=step[2], discount=step[3])
    else:
        sold = [s.id for s in Sale.select(Sale.id).where(Sale.kind == "sale").order_by(Sale.id)]
        if sold:  # a drawn product the sale did not have is refused, and nothing happens
            wanted = [] if step[2] is None else [sales.ReturnInput(step[2], step[3])]
            sales.refund(ctx, wanted, sale_id=sold[step[1] % len(sold)])


def full_replay(moment: str) -> dict[int, tuple[int, int]]:
    """Every movement before ``moment``, each product's in id order, through the moving average."""
    state: dict[int, list[int]] = {}
    for m in Movement.select().where(Movement.created_at < moment).order_by(Movement.product, Movement.id):
        s = state.setdefault(m.product_id, [0, m.unit_cost or 0])
        if m.unit_cost is not None:
            s[1] = (stock.moving_average(s[0], s[1], m.quantity, m.unit_cost) if m.kind in reports.AVERAGING_KINDS
                    else m.unit_cost)
        s[0] += m.quantity
    return {pid: (s[0], s[1]) for pid, s in state.items()}


def check_identities(first: dt.date, last: dt.date, *, upkeep: bool = False) -> None:
    """``upkeep``: the closed days' figures kept ahead first (``report_upkeep``), as the app or cron keeps them."""
    if upkeep:
        report_upkeep.keep_closed_days()
    opts = reports.Options(start=first, end=last)
    rep = reports.run("sales", opts)
    assert reports.run("sales", opts).tables == rep.tables  # the second time from the kept hours
    sales_cache.enabled = False
    try:
        assert reports.run("sales", opts).tables == rep.tables  # and a full recomputation agrees
    finally:
        sales_cache.enabled = True
    periods = rep.table("periods")
    every_sale = list(Sale.select())
    # a sales report's total equals the sum of the sales' totals, day by local day
    per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for s in every_sale:
        day = per_day[_local_day(s.created_at).isoformat()]
        day[0] += s.total
        day[1] += s.tax
        day[2] += s.kind == "sale"
    for row in periods.rows:
        assert [row["total"], row["tax"], row["sales"]] == per_day.get(row["period"], [0, 0, 0])
    total = periods.total
    assert total["total"] == sum(s.total for s in every_sale)
    assert total["gross"] + total["refunds"] == total["total"]
    assert total["net"] == total["total"] - total["tax"]
    cogs = sum((-1 if line.sale.kind == "return" else 1) * extend(line.quantity, line.unit_cost)
               for line in SaleLine.select().join(Sale))
    assert total["cogs"] == cogs
    assert total["margin"] == total["net"] - cogs
    for name in ("staff", "till", "category"):
        assert sum(r["total"] for r in rep.table(name).rows) == total["total"]
        assert sum(r["cogs"] for r in rep.table(name).rows) == cogs
    # by payment method: each payment row under its own method (a split sale under each of its methods), the
    # cash rounding apart, so that the methods' totals add up to the sales' totals
    by_method = {r["payment"]: r for r in rep.table("payment").rows}
    assert sum(r["total"] for r in by_method.values()) == rep.table("payment").total["total"] == total["total"]
    paid: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for p in Payment.select(Payment, Sale).join(Sale):
        paid[p.method][0 if p.sale.kind == "sale" else 1] += p.amount
    assert {m: [r["taken"], r["refunds"]] for m, r in by_method.items()} == {m: v for m, v in paid.items()}
    assert sum(r["rounding"] for r in by_method.values()) == sum(s.rounding for s in every_sale)
    assert "split" not in by_method
    assert rep.table("tax").total["tax"] == total["tax"]
    assert sum(r["total"] for r in periods.rows) == total["total"]

    # best sellers: units and revenue of every product line, refunds taken off
    best = reports.run("best-sellers", dataclasses.replace(opts, limit=0)).table("products")
    units = sum((-1 if line.sale.kind == "return" else 1) * line.quantity
                for line in SaleLine.select().join(Sale).where(SaleLine.product.is_null(False)))
    assert best.total["units"] == units == sum(r["units"] for r in best.rows)

    # valuation equals sum of on hand x average cost, and the journal's replay agrees with the cached stock
    products = list(Product.select())
    value = sum(extend(p.on_hand, p.avg_cost) for p in products)
    now = reports.run("valuation", reports.Options()).table("category").total
    assert now["cost"] == value
    assert now["retail"] == sum(extend(p.on_hand, p.price) for p in products)
    replayed = reports.run("valuation", reports.Options(at=last + dt.timedelta(days=1))).table("category").total
    assert replayed["cost"] == value and replayed["on_hand"] == sum(p.on_hand for p in products)

    # the past is the journal replayed product by product in id order, whichever movements the replay skips
    for day in (first, first + (last - first) / 2, last):
        moment = reports.local_start(day) if day != last else reports.local_start(day + dt.timedelta(days=1))
        assert reports.stock_at(moment) == full_replay(moment)

    # movement: closing equals stock; closing = opening + every movement; nothing before the first day
    moved = reports.run("movement", dataclasses.replace(opts, limit=0)).table("products")
    on_hand = {p.sku: p.on_hand for p in products}
    for row in moved.rows:
        assert row["closing"] == on_hand[row["sku"]]
        assert row["opening"] == 0
        assert row["closing"] == row["opening"] + sum(row[c] for _, c in reports.MOVEMENT_KINDS)
    assert moved.total["closing"] == sum(on_hand.values())
    # the same reconciliation over the last day alone (its opening is the stock at the end of the day before)
    last_day = reports.run("movement", reports.Options(start=last, end=last, limit=0)).table("products")
    for row in last_day.rows:
        before = sum(m.quantity for m in Movement.select().join(Product).where(
            (Product.sku == row["sku"]) & (Movement.created_at < reports.local_start(last))))
        assert row["opening"] == before

    # over whole months: the second time from the kept month starts (journal_cache), and a full recomputation agrees
    wide = reports.Options(start=first - dt.timedelta(days=62), end=last + dt.timedelta(days=40), limit=0)
    inner = reports.Options(start=first - dt.timedelta(days=31), end=last + dt.timedelta(days=10), limit=0)
    kept = [reports.run("movement", o).tables for o in (wide, wide, inner, inner)]
    journal_cache.enabled = False
    try:
        assert [reports.run("movement", o).tables for o in (wide, wide, inner, inner)] == kept
    finally:
        journal_cache.enabled = True
    assert kept[0][0].total["closing"] == sum(on_hand.values())

    # shrinkage: every adjustment and count variance, at the cost it recorded; a product's first count before any
    # receipt or count of it is its opening stock, not a variance
    shrink = reports.run("shrinkage", opts).table("reasons").total
    told: set[int] = set()  # products whose stock the journal has heard of (a receipt or a count)
    losses = []
    for m in Movement.select().order_by(Movement.id):
        if m.kind == "adjust" or (m.kind == "count" and m.product_id in told):
            losses.append(m)
        if m.kind in ("receive", "count"):
            told.add(m.product_id)
    assert shrink["units"] == sum(m.quantity for m in losses)
    assert shrink["cost"] == sum(extend(m.quantity, m.unit_cost) for m in losses)

    # abc: the classes share out all revenue
    classes = reports.run("abc", opts).table("classes")
    assert sum(r["revenue"] for r in classes.rows) == best.total["revenue"]

    # the product reports from kept spans of days equal a full recomputation: over this range (kept the first
    # time, read from the kept span the second), and over ranges a day longer or shorter at either end, which
    # start from the nearest kept span and add or take off the days between
    day = dt.timedelta(days=1)
    for start, end in ((first, last), (first + day, last), (first - day, last), (first, last - day),
                       (first, last + day), (first + day, last - day)):
        if start > end:
            continue
        for name, rank in (("best-sellers", "units"), ("best-sellers", "margin"), ("worst-sellers", "revenue"),
                           ("abc", "revenue")):
            narrowed = reports.Options(start=start, end=end, limit=0, rank=rank)
            kept = reports.run(name, narrowed).tables
            assert reports.run(name, narrowed).tables == kept
            product_sales_cache.enabled = False
            try:
                assert reports.run(name, narrowed).tables == kept
            finally:
                product_sales_cache.enabled = True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.tuples(op, st.integers(0, 400)), max_size=20), include_tax=st.booleans(),
       zone=st.sampled_from(["Asia/Kolkata", "Europe/Paris", "America/New_York"]),
       late=st.lists(late_op, max_size=4), upkeep=st.booleans())
def test_reports_tie_out_with_the_journal(ops, include_tax, zone, late, upkeep, local_zone, monkeypatch):
    local_zone(zone)
    monkeypatch.setattr(product_sales_cache, "MIN_DAYS", 1)  # keep spans of a day: the runs are a few days long
    clock = Clock(dt.datetime(2026, 3, 28, 22, 30).astimezone())  # the evening before a clock change in Paris
    monkeypatch.setattr(sales, "utcnow", clock)
    monkeypatch.setattr(stock, "utcnow", clock)
    with tempfile.TemporaryDirectory() as tmp:
        open_database(str(Path(tmp) / "shop.db"))
        try:
            ctx = Context(staff="p", terminal="t", prices_include_tax=include_tax, default_tax_rate=5_500,
                          cash_rounding=5)
            for sku, price, rate in (("A", 199, 20_000), ("B", 1250, 5_500), ("KG", 2390, 0)):
                save_product(ProductData(sku=sku, name=sku, price=price, tax_rate=rate,
                                         unit="kg" if sku == "KG" else "pcs"))
                stock.receive(ctx, sku, 5_000, 77)
            started = clock.now
            first = _local_day(clock())
            for step, minutes in ops:
                clock.now += dt.timedelta(minutes=minutes)
                try:
                    _apply(ctx, step)
                except ShopError:
                    pass
            check_identities(first, _local_day(clock()), upkeep=upkeep)
            if late:  # figures are kept now; then tills whose sales took their time stamps earlier commit
                ended = clock.now
                for step, permille in late:
                    clock.now = started + (ended - started) * permille / 1000
                    try:
                        _apply(ctx, step)
                    except ShopError:
                        pass
                clock.now = ended
                check_identities(first, _local_day(clock()))  # the figures kept ahead are checked, not trusted
        finally:
            close_database()


valued_op = st.one_of(
    st.tuples(st.just("receive"), st.sampled_from(SKUS), qty, st.integers(0, 900)),
    st.tuples(st.just("adjust"), st.sampled_from(SKUS), st.integers(-3_000, 3_000), st.just("damaged")),
    st.tuples(st.just("count"), st.sampled_from(SKUS), st.integers(0, 8_000)),
    st.tuples(st.just("sell"), st.lists(line, min_size=1, max_size=3), st.just("card"), st.just(0)),
    st.tuples(st.just("edit"), st.sampled_from(SKUS), st.sampled_from(["price", "category", "supplier"]),
              st.integers(0, 3)),
    st.tuples(st.just("import"), st.lists(st.tuples(st.sampled_from([*SKUS, "N1", "N2"]), st.integers(0, 3)),
                                          min_size=1, max_size=4, unique_by=lambda t: t[0])),
    st.tuples(st.just("new"), st.integers(0, 3), st.integers(-2_500, 9_999)),  # a product with no history ...
    st.tuples(st.just("delete"), st.integers(0, 5)),  # ... which may be deleted
)


def _apply_valued(ctx: Context, step: tuple) -> None:
    from peewee import fn

    from shopkeeper.services.catalog import save_products

    categories, suppliers = ["", "Dairy", "Bakery", "Dry"], [None, "Acme", "Bolt", "Corn"]
    if step[0] == "edit":
        _, sku, what, n = step
        value = {"price": {"price": 100 + 37 * n}, "category": {"category": categories[n]},
                 "supplier": {"supplier": suppliers[n] or ""}}[what]
        save_product(ProductData(sku=sku, **value))
    elif step[0] == "import":
        save_products([ProductData(sku=sku, name=sku, category=categories[n], price=50 + n) for sku, n in step[1]])
    elif step[0] == "new":
        sku = f"H{(Product.select(fn.MAX(Product.id)).scalar() or 0) + 1}"  # unique: a deleted H's id may return
        Product.insert(sku=sku, name="h", category=categories[step[1]], on_hand=step[2], avg_cost=13 + step[1],
                       price=29).execute()
    elif step[0] == "delete":
        fresh = [p.id for p in Product.select(Product.id).where(Product.sku.startswith("H")).order_by(Product.id)]
        if fresh:
            Product.delete().where(Product.id == fresh[step[1] % len(fresh)]).execute()
    else:
        _apply(ctx, step)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(ops=st.lists(valued_op, max_size=20), fold_after=st.integers(0, 6))
def test_valuation_now_equals_the_products_after_any_changes(ops, fold_after, monkeypatch):
    """The kept stock value (``services/stock_value.py``) under sales, receipts, counts, catalog edits of price,
    category and supplier, imports, products added and deleted by hand, and folds at any moment: every group,
    filtered or not, equals a recomputation from the products."""
    from shopkeeper.services import stock_value

    monkeypatch.setattr(stock_value, "FOLD_AFTER", fold_after)
    with tempfile.TemporaryDirectory() as tmp:
        open_database(str(Path(tmp) / "shop.db"))
        try:
            ctx = Context(staff="p", terminal="t", negative_stock="allow")
            for sku, price in (("A", 199), ("B", 1250), ("KG", 2390)):
                save_product(ProductData(sku=sku, name=sku, price=price, unit="kg" if sku == "KG" else "pcs"))
            for step in ops:
                try:
                    _apply_valued(ctx, step)
                except ShopError:
                    pass
                products = list(Product.select())
                report = reports.run("valuation", reports.Options())
                for key, of in (("category", lambda p: p.category or reports.NO_CATEGORY),
                                ("supplier", lambda p: p.supplier.name if p.supplier_id else "(none)")):
                    want: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
                    for p in products:
                        acc = want[of(p)]
                        for i, v in enumerate((1 if p.on_hand else 0, p.on_hand, extend(p.on_hand, p.avg_cost),
                                               extend(p.on_hand, p.price))):
                            acc[i] += v
                    got = {r[key]: [r["products"], r["on_hand"], r["cost"], r["retail"]]
                           for r in report.table(key).rows}
                    assert got == dict(want)
                for category in {p.category for p in products if p.category}:
                    narrowed = reports.run("valuation", reports.Options(category=category)).table("category").total
                    assert narrowed["cost"] == sum(extend(p.on_hand, p.avg_cost) for p in products
                                                   if p.category == category)
        finally:
            close_database()
