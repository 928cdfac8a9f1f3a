"""Reports: the journal and the sales turned into the figures a shop decides with. Read-only, plain Python.

Every figure is an exact integer (minor units, thousandths, basis points) recomputed from the journal and the sale
tables in one read snapshot (``_snapshot``: SQLite's read transaction, PostgreSQL's REPEATABLE READ), so a report
is one consistent moment even while tills commit. The SQL is portable (SQLite and PostgreSQL) and groups by the
stored UTC hour (minute, in a zone whose offset is not whole hours); hours become local calendar days here.

Definitions, one place:

* a line's cost of goods is ``extend(quantity, unit_cost)`` (half-even to a minor unit), negative on a refund;
* gross sales is what the sales took, tax included, after discounts; refunds what refunds paid back (negative);
  ``total = gross + refunds`` equals the sum of the sales' own totals; net sales is ``total - tax``;
  margin is ``net - cost of goods``; discounts are every line's own discount plus its share of the sale discount;
* stock value is ``extend(on_hand, avg_cost)`` per product, at retail ``extend(on_hand, price)``.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import gc
import heapq
import itertools
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from shopkeeper import times
from shopkeeper.db import is_sqlite
from shopkeeper.errors import InvalidInput
from shopkeeper.models import database
from shopkeeper.money import extend, round_div, round_div_all, running_shares
from shopkeeper.services import journal_cache, product_sales_cache, sales_cache, stock_cache, stock_value
from shopkeeper.services.opening_stock import opening_count_sql
from shopkeeper.services.stock import moving_average

REPORTS = ("sales", "best-sellers", "worst-sellers", "slow-movers", "valuation", "shrinkage", "movement", "abc")
PERIODS = ("day", "week", "month")
RANKS = ("units", "revenue", "margin")


# --- what a report is ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str = "text"  # text | money | qty | int | pct (basis points) | rate (a tax rate, money.RATE_SCALE) | days


@dataclass
class Table:
    name: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None = None
    keys: dict[str, str] = field(default_factory=dict)  # drill targets: "product" (product_id) or "period"


@dataclass
class Report:
    name: str
    title: str
    params: dict[str, Any]
    tables: list[Table]
    chart: list[tuple[str, int]] = field(default_factory=list)  # (period label, net sales in minor units)

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise InvalidInput(f"report {self.name} has no table {name!r} (it has {', '.join(self.names())})",
                           field="table", value=name)

    def names(self) -> list[str]:
        return [t.name for t in self.tables]


@dataclass(frozen=True)
class Options:
    start: dt.date | None = None  # local calendar days, inclusive
    end: dt.date | None = None
    by: str = "day"
    category: str | None = None
    supplier: str | None = None
    rank: str = "units"
    days: int = 60  # slow-movers: no sale for this many days
    rate_days: int = 90  # slow-movers: the window whose rate of sale gives days of cover
    at: dt.date | None = None  # valuation as of the end of this local day
    limit: int | None = None  # rows of a product list; None: the report's own default, 0: all
    product_id: int | None = None  # narrow to one product (drill-down)
    period: str | None = None  # narrow to one period label (drill-down from a figure)


def parse_date(text: str, *, what: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{what}: {text.strip()!r} is not a date like 2026-11-25", field=what, value=text) from None
    if day.year < 1000:
        raise InvalidInput(f"{what}: write the year with four digits", field=what, value=text)
    if day > LAST_DAY:
        raise InvalidInput(f"{what}: {day} is past the last day a report reaches ({LAST_DAY})", field=what,
                           value=text)
    return day


LAST_DAY = dt.date(9998, 12, 31)
"""The last day a report reaches: the UTC time of the local midnight after it must still be a date."""


def today() -> dt.date:
    return dt.datetime.now().astimezone().date()


# --- local days, periods and the UTC text they span --------------------------------------------------------------

def local_start(day: dt.date) -> str:
    """The stored UTC text of local midnight starting ``day``."""
    return times.to_utc_text(dt.datetime.combine(day, dt.time.min))


def period_of(day: dt.date, by: str) -> str:
    if by == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if by == "week":
        return (day - dt.timedelta(days=day.weekday())).isoformat()  # the Monday that starts it
    return day.isoformat()


def period_days(label: str, by: str) -> tuple[dt.date, dt.date]:
    """First and last local day of a period label."""
    if by == "month":
        first = dt.date.fromisoformat(label + "-01")
        nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return first, nxt - dt.timedelta(days=1)
    first = dt.date.fromisoformat(label)
    return first, first + dt.timedelta(days=6 if by == "week" else 0)


def periods(start: dt.date, end: dt.date, by: str) -> list[str]:
    labels: list[str] = []
    day = start
    while day <= end:
        label = period_of(day, by)
        if not labels or labels[-1] != label:
            labels.append(label)
        day += dt.timedelta(days=1)
    return labels


class _Bucketer:
    """Stored UTC text → local period label, by hour (or by minute in a zone with a half-hour offset)."""

    def __init__(self, start: dt.date, end: dt.date, by: str) -> None:
        self.by = by
        self.width = 13
        day = start - dt.timedelta(days=1)
        while day <= end + dt.timedelta(days=1):
            offset = dt.datetime.combine(day, dt.time(12)).astimezone().utcoffset() or dt.timedelta()
            if offset.total_seconds() % 3600:
                self.width = 16
                break
            day += dt.timedelta(days=1)
        self._cache: dict[str, str] = {}

    def sql(self, column: str) -> str:
        return f"substr({column}, 1, {self.width})"

    def __call__(self, key: str) -> str:
        label = self._cache.get(key)
        if label is None:
            if self.width == 13 and self._hours_of_day(key[:10]):
                return self._cache[key]
            text = key + (":00" if self.width == 13 else "") + ":00+00:00"
            local = dt.datetime.fromisoformat(text).astimezone().date()
            label = self._cache[key] = period_of(local, self.by)
        return label

    def _hours_of_day(self, day: str) -> bool:
        """Label the 24 hours of UTC ``day`` at once when the zone keeps one offset all day (a year is 8760
        hours: one time zone conversion each was a fifth of the sales report); False on a day it changes."""
        start = dt.datetime.fromisoformat(day + "T00:00:00+00:00")
        offset = start.astimezone().utcoffset()
        if offset != (start + dt.timedelta(hours=23)).astimezone().utcoffset():
            return False
        shift = int((offset or dt.timedelta()).total_seconds()) // 3600
        first = start.date()
        labels = {n: period_of(first + dt.timedelta(days=n), self.by) for n in (-1, 0, 1)}
        for hour in range(24):
            self._cache[f"{day}T{hour:02d}"] = labels[(hour + shift) // 24]
        return True


# --- SQL pieces --------------------------------------------------------------------------------------------------

def _round_milli(expr: str) -> str:
    """SQL for ``round_div(expr, 1000)`` (half to even) of an integer expression of any sign (``money.extend``)."""
    a = f"ABS({expr})"
    rounded = f"(({a} + 500) / 1000 - CASE WHEN {a} % 2000 = 500 THEN 1 ELSE 0 END)"
    return f"(CASE WHEN {expr} < 0 THEN -{rounded} ELSE {rounded} END)"


def _round_milli_positive(expr: str) -> str:
    """``round_div(expr, 1000)`` for an expression never below zero: half up, less one where exactly half fell
    on an even number (``x % 2000 = 500``). Three operations a row instead of a dozen."""
    return f"(({expr} + 500) / 1000 - CASE WHEN {expr} % 2000 = 500 THEN 1 ELSE 0 END)"


def _extend_sql(quantity: str, amount: str) -> str:
    """SQL for ``money.extend(quantity, amount)``: a whole number of units (most stock) needs no rounding."""
    return (f"(CASE WHEN {quantity} % 1000 = 0 THEN {quantity} / 1000 * {amount} "
            f"ELSE {_round_milli(f'{quantity} * {amount}')} END)")


def _sign(kind: str = "s.kind") -> str:
    return f"(CASE WHEN {kind} = 'return' THEN -1 ELSE 1 END)"


# a sale line's quantity and cost are never negative (a refund's line too: its sale's kind gives the sign)
LINE_COST = _round_milli_positive("CAST(l.quantity AS BIGINT) * l.unit_cost")
LINE_COGS = f"{_sign()} * {LINE_COST}"


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a report builds: it makes a few hundred thousand small lists, tuples and
    dicts that all live until it returns, and the collector walking them again and again took a third of a
    product report. Collection resumes (and catches up) afterwards; whoever paused it first resumes it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def _snapshot() -> Iterator[None]:
    """Every query of one report sees one moment: a read transaction (SQLite WAL) or REPEATABLE READ."""
    db = database.obj
    if db.transaction_depth() > 0:
        yield
        return
    with db.atomic("DEFERRED" if is_sqlite(db) else "REPEATABLE READ"):
        yield


def _rows(sql: str, params: Iterable[Any] = ()) -> list[tuple]:
    db = database.obj
    if is_sqlite(db):
        return db.execute_sql(sql, tuple(params)).fetchall()
    rows = db.execute_sql(sql.replace("%", "%%").replace("?", db.param), tuple(params)).fetchall()
    # PostgreSQL sums BIGINT as NUMERIC: exact, but a Decimal; every figure here is a whole number
    return [tuple(int(v) if isinstance(v, Decimal) else v for v in row) for row in rows]


@dataclass
class _Scope:
    """The date range and product filters of one report, as SQL."""

    start: dt.date
    end: dt.date
    lo: str
    hi: str
    where: str  # conditions on product ``p`` (may be empty)
    params: list[Any]

    def product_filter(self) -> str:
        return f" AND {self.where}" if self.where else ""


def _scope(opts: Options, *, default_days: int = 30) -> _Scope:
    end = opts.end or today()
    start = opts.start or (end - dt.timedelta(days=default_days - 1))
    if start > end:
        raise InvalidInput(f"--from {start} is after --to {end}", field="from", value=str(start))
    conds, params = [], []
    if opts.category == "":
        conds.append("COALESCE(p.category, '') = ''")
    elif opts.category is not None:
        _known_category(opts.category)
        conds.append("p.category = ?")
        params.append(opts.category)
    if opts.supplier is not None:
        row = _rows("SELECT id FROM supplier WHERE name = ?", [opts.supplier])
        if not row:
            raise InvalidInput(f"supplier: no supplier called {opts.supplier!r}", field="supplier",
                               value=opts.supplier)
        conds.append("p.supplier_id = ?")
        params.append(row[0][0])
    if opts.product_id is not None:
        conds.append("p.id = ?")
        params.append(opts.product_id)
    return _Scope(start, end, local_start(start), local_start(end + dt.timedelta(days=1)), " AND ".join(conds),
                  params)


NO_CATEGORY = "(none)"
"""The label of the row of products without a category (``Options.category = ""`` selects them)."""
ONE_OFF_ITEMS = "(one-off items)"
"""The sales report's category row of one-off lines: no product stands behind them."""


def drill_category(label: str) -> str | None:
    """The ``Options.category`` that lists the products behind a category row: "" for those without one; None for
    the one-off items, which are no products."""
    if label == ONE_OFF_ITEMS:
        return None
    return "" if label == NO_CATEGORY else label


def _known_category(category: str) -> None:
    """Refuse a category no product has (a typo would print an empty report), naming one differing only in case."""
    if _rows("SELECT 1 FROM product WHERE category = ? LIMIT 1", [category]):
        return
    alike = _rows("SELECT category FROM product WHERE lower(category) = lower(?) LIMIT 1", [category])
    hint = f"; did you mean {alike[0][0]!r}?" if alike else ""
    raise InvalidInput(f"category: no product has the category {category!r}{hint}", field="category",
                       value=category)


def narrow_to_period(opts: Options) -> Options:
    """A drill from one period's figure: the same report over that period's days only."""
    if opts.period is None:
        return opts
    try:
        first, last = period_days(opts.period, opts.by)
    except ValueError:
        raise InvalidInput(f"period: {opts.period!r} is not a {opts.by}", field="period", value=opts.period) from None
    from dataclasses import replace

    return replace(opts, start=max(first, opts.start or first), end=min(last, opts.end or last), period=None)


def _params(opts: Options, scope: _Scope, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"from": scope.start.isoformat(), "to": scope.end.isoformat()}
    for key in ("category", "supplier", "product_id"):
        if getattr(opts, key) is not None:
            params[key] = getattr(opts, key)
    if opts.category == "":
        params["category"] = NO_CATEGORY
    params.update(extra)
    return params


def pct(part: int, whole: int) -> int | None:
    """``part`` of ``whole`` in basis points, half to even; None when ``whole`` is zero."""
    return None if whole == 0 else round_div(part * 10_000, whole)


def _products(ids: Iterable[int]) -> dict[int, tuple[str, str, str]]:
    """id → (sku, name, category) for these products, read in chunks (or all at once for many of them)."""
    ids = sorted(set(ids))
    found: dict[int, tuple[str, str, str]] = {}
    if len(ids) > 5_000:  # an ABC of every product: one pass over the table beats a query per 500
        wanted = set(ids)
        return {row[0]: row[1:] for row in _rows("SELECT id, sku, name, category FROM product") if row[0] in wanted}
    for n in range(0, len(ids), 500):
        chunk = ids[n:n + 500]
        marks = ", ".join("?" * len(chunk))
        for pid, sku, name, category in _rows(f"SELECT id, sku, name, category FROM product WHERE id IN ({marks})",
                                              chunk):
            found[pid] = (sku, name, category)
    return found


def _limit(opts: Options, default: int) -> int | None:
    limit = default if opts.limit is None else opts.limit
    return None if limit == 0 else limit


# --- sales -----------------------------------------------------------------------------------------------------

_SALES_FIGURES = [
    Column("sales", "Sales", "int"), Column("gross", "Gross", "money"), Column("refunds", "Refunds", "money"),
    Column("discounts", "Discounts", "money"), Column("tax", "Tax", "money"), Column("total", "Total", "money"),
    Column("net", "Net", "money"), Column("basket", "Avg basket", "money"), Column("cogs", "Cost of goods", "money"),
    Column("margin", "Margin", "money"), Column("margin_pct", "Margin %", "pct"),
]


def _figures() -> dict[str, int]:
    return {"sales": 0, "refund_count": 0, "gross": 0, "refunds": 0, "discounts": 0, "tax": 0, "cogs": 0}


def _add(acc: dict[str, int], kind: str, count: int, total: int, tax: int, discount: int, cogs: int) -> None:
    if kind == "return":
        acc["refund_count"] += count
        acc["refunds"] += total
    else:
        acc["sales"] += count
        acc["gross"] += total
    acc["tax"] += tax
    acc["discounts"] += -discount if kind == "return" else discount
    acc["cogs"] += cogs


def _finish(acc: dict[str, int]) -> dict[str, Any]:
    total = acc["gross"] + acc["refunds"]
    net = total - acc["tax"]
    margin = net - acc["cogs"]
    return {**acc, "total": total, "net": net, "margin": margin, "margin_pct": pct(margin, net),
            "basket": round_div(acc["gross"], acc["sales"]) if acc["sales"] else 0}


SALE_FIGURES = f"COUNT(DISTINCT s.id), SUM(l.total), SUM(l.tax), SUM(l.discount), SUM({LINE_COGS})"
"""Per group of sale lines: sales, total, tax, discounts, cost of goods (in ``_add``'s order)."""


def _live_sales(bucket_sql: str, base: str, params: list[Any]) -> dict[tuple[str, str], list[int]]:
    """(bucket, kind) → sales, total, tax, discount, cost of goods, straight from the sale lines."""
    return {(bucket, kind): [v or 0 for v in values]
            for bucket, kind, *values in _rows(f"SELECT {bucket_sql}, s.kind, {SALE_FIGURES}{base} GROUP BY 1, 2",
                                               params)}


def _first_sale_day(lo: str, hi: str) -> str:
    """Where the kept hours and days of a range start: the UTC day of its first sale (``hi`` when it has none).
    The range before it holds no sale in this snapshot, so it adds nothing, and nothing of it is kept: a report
    from 1990 on would otherwise keep a row for every empty hour since. A sale stamped earlier that commits later
    moves the start back in the next report."""
    first = _rows("SELECT MIN(created_at) FROM sale WHERE created_at >= ? AND created_at < ?", [lo, hi])[0][0]
    if first is None:
        return hi
    return max(lo, first[:10] + "T00:00:00.000000Z")


def sales(opts: Options) -> Report:
    opts = narrow_to_period(opts)
    if opts.by not in PERIODS:
        raise InvalidInput(f"--by must be one of {', '.join(PERIODS)}", field="by", value=opts.by)
    with _snapshot():
        scope = _scope(opts)
        bucket = _Bucketer(scope.start, scope.end, opts.by)
        join = " JOIN product p ON p.id = l.product_id" if scope.where else ""
        base = (f" FROM sale_line l JOIN sale s ON s.id = l.sale_id{join}"
                f" WHERE s.created_at >= ? AND s.created_at < ?{scope.product_filter()}")
        params = [scope.lo, scope.hi, *scope.params]
        by_period: dict[str, dict[str, int]] = {label: _figures() for label in periods(scope.start, scope.end,
                                                                                           opts.by)}
        kept_from = _first_sale_day(scope.lo, scope.hi)
        if scope.where or bucket.width != 13 or not sales_cache.enabled:
            hourly = _live_sales(bucket.sql("s.created_at"), base, params)
        else:
            hourly = sales_cache.figures(kept_from, scope.hi)
        for (hour, kind), values in hourly.items():
            _add(by_period[bucket(hour)], kind, *values)
        if scope.where or not sales_cache.enabled:
            grouped = _live_groups(scope.lo, scope.hi, scope)
        else:
            grouped = sales_cache.groups(kept_from, scope.hi)
        staff = dict(_rows("SELECT id, name FROM staff"))
        tills = dict(_rows("SELECT id, name FROM terminal"))
    groups: dict[str, dict[str, dict[str, int]]] = {k: defaultdict(_figures) for k in ("staff", "till", "category")}
    tax_by_rate: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    tenders: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # sales, taken, refunds, rounding
    for (dim, key, kind), values in grouped.items():
        if dim in ("tender", "rounding"):
            acc = tenders["cash" if dim == "rounding" else key]  # only cash rounds
            if dim == "rounding":
                acc[3] += values[1]
            else:
                acc[0] += values[0] if kind == "sale" else 0
                acc[1 if kind == "sale" else 2] += values[1]
            continue
        if dim == "rate":
            tax_by_rate[int(key)][0] += values[1] - values[2]
            tax_by_rate[int(key)][1] += values[2]
            continue
        if dim == "staff":
            key = staff.get(int(key), "") if key else "(none)"
        elif dim == "till":
            key = tills.get(int(key), "") if key else "(none)"
        _add(groups[dim][key], kind, *values)
    rows = [{"period": label, **_finish(acc)} for label, acc in by_period.items()]
    total_acc = _figures()
    for acc in by_period.values():
        for key in total_acc:
            total_acc[key] += acc[key]
    tables = [Table("periods", f"Sales by {opts.by}", [Column("period", opts.by.capitalize()), *_SALES_FIGURES],
                    rows, {"period": "total", **_finish(total_acc)}, keys={"period": "period"})]
    tables.append(_tender_table(tenders, narrowed=bool(scope.where)))
    for name, title in (("staff", "By staff"), ("till", "By till"), ("category", "By category")):
        grouped = groups[name]
        rows = [{name: key, **_finish(acc)} for key, acc in sorted(grouped.items())]
        columns = [Column(name, name.capitalize()), *_SALES_FIGURES]
        if name == "category":
            columns[1] = Column("sales", "Lines", "int")
        tables.append(Table(name, title, columns, rows, keys={"category": "category"} if name == "category" else {}))
    tables.append(Table("tax", "Tax by rate", [Column("rate", "Rate", "rate"), Column("net", "Net", "money"),
                                               Column("tax", "Tax", "money")],
                        [{"rate": rate, "net": v[0], "tax": v[1]} for rate, v in sorted(tax_by_rate.items())],
                        {"rate": None, "net": sum(v[0] for v in tax_by_rate.values()),
                         "tax": sum(v[1] for v in tax_by_rate.values())}))
    for row in tables[4].rows:  # a category's count is its lines: one sale may hold several categories
        row["basket"] = None
    chart = [(row["period"], row["net"]) for row in tables[0].rows]
    return Report("sales", "Sales", _params(opts, scope, by=opts.by), tables, chart)


_TENDER_COLUMNS = [
    Column("payment", "Payment"), Column("sales", "Sales", "int"), Column("taken", "Taken", "money"),
    Column("refunds", "Refunds", "money"), Column("rounding", "Rounding", "money"), Column("total", "Total", "money"),
]


def _tender_table(tenders: dict[str, list[int]], *, narrowed: bool) -> Table:
    """By payment method, from the payment rows: the sales a method paid for (wholly or in part), what it took
    and paid back, and its total, which leaves out the cash rounding (what cash took over the sales' totals) so
    the methods' totals add up to the sales' totals (the report's ``total``)."""
    rows = []
    for method, (count, taken, refunds, rounding) in sorted(tenders.items()):
        if (count, taken, refunds, rounding) == (0, 0, 0, 0) and method == "cash":
            continue  # the rounding row of a range with no cash rounding and no cash
        rows.append({"payment": method, "sales": count, "taken": taken, "refunds": refunds, "rounding": rounding,
                     "total": taken + refunds - rounding})
    total = {key: sum(row[key] for row in rows) for key in ("taken", "refunds", "rounding", "total")}
    title = "By payment method" + (" (the whole sales holding these products)" if narrowed else "")
    return Table("payment", title, _TENDER_COLUMNS, rows, {"payment": "total", "sales": None, **total})


def _live_tenders(lo: str, hi: str, scope: _Scope | None = None, *, by_day: bool = False) -> dict[tuple, list[int]]:
    """([UTC day,] dimension, key, kind) → sales, amount, 0, 0, 0 from the payment rows: dimension ``tender`` by
    method (each payment row's amount under its own method, so a split sale adds to each; the amount is what the
    tender settled, cash change not in it, a refund's rows negative), and ``rounding`` (key ``''``): every sale
    counted, and the cash rounding (payments less total). Narrowed to some products, the payments of the sales
    that hold one of them (a payment settles a whole sale, not its lines)."""
    where = (" AND EXISTS (SELECT 1 FROM sale_line l JOIN product p ON p.id = l.product_id WHERE l.sale_id = s.id"
             f"{scope.product_filter()})") if scope and scope.where else ""
    params = [lo, hi, *(scope.params if where and scope else [])]
    day = "substr(s.created_at, 1, 10), " if by_day else ""
    keys = 1 + by_day  # [day,] kind
    out: dict[tuple, list[int]] = {}
    for *prefix, kind, method, count, amount in _rows(
            f"SELECT {day}s.kind, t.method, COUNT(DISTINCT s.id), SUM(t.amount) FROM sale s JOIN payment t ON "
            f"t.sale_id = s.id WHERE s.created_at >= ? AND s.created_at < ?{where} GROUP BY "
            f"{', '.join(str(n) for n in range(1, keys + 2))}", params):
        out[(*prefix, "tender", method, kind)] = [count, amount or 0, 0, 0, 0]
    for *prefix, kind, count, rounding in _rows(
            f"SELECT {day}s.kind, COUNT(*), SUM(s.rounding) FROM sale s WHERE s.created_at >= ? AND "
            f"s.created_at < ?{where} GROUP BY {', '.join(str(n) for n in range(1, keys + 1))}", params):
        out[(*prefix, "rounding", "", kind)] = [count, rounding or 0, 0, 0, 0]
    return out


def _live_groups(lo: str, hi: str, scope: _Scope | None = None, *, by_day: bool = False,
                 sellers: bool = True) -> dict[tuple, list[int]]:
    """([UTC day,] dimension, key, kind) → sales, total, tax, discount, cost of goods, from the sale lines, for
    the dimensions ``staff``, ``till`` (ids as text), ``category`` and ``rate``; and the payment rows'
    ``tender`` and ``rounding`` (``_live_tenders``).

    A sale is counted at its first line (``line_no = 1``) for staff and till (narrowed to some products, whose
    lines may not include a sale's first, as distinct ids); a category or a tax rate counts its lines. The
    sales' dimensions and the lines' are summed by two queries: one grouped by all four made a row per
    combination (150k for a year) to be added up here four times over, a second of a year's first report.
    ``sellers`` False: staff and till left out (``sales_cache`` summed them with the hours)."""
    if lo >= hi:  # an empty end of a range (it starts or ends at UTC midnight): no query
        return {}
    where = scope.product_filter() if scope else ""
    join = " JOIN product p ON p.id = l.product_id" if where else ""
    params = [lo, hi, *(scope.params if scope else [])]
    day = "substr(s.created_at, 1, 10), " if by_day else ""
    lines = f" FROM sale_line l JOIN sale s ON s.id = l.sale_id{join}"
    span = f" WHERE s.created_at >= ? AND s.created_at < ?{where} GROUP BY "
    figures = f"SUM(l.total), SUM(l.tax), SUM(l.discount), SUM({LINE_COGS})"
    counted = "COUNT(DISTINCT s.id)" if where else "SUM(CASE WHEN l.line_no = 1 THEN 1 ELSE 0 END)"
    out: dict[tuple, list[int]] = {}

    def add(key: tuple, values: Sequence[int]) -> None:
        acc = out.get(key)
        if acc is None:
            out[key] = [v or 0 for v in values]
        else:
            out[key] = [a + (v or 0) for a, v in zip(acc, values, strict=True)]

    for row in _rows(f"SELECT {day}s.kind, s.staff_id, s.terminal_id, {counted}, {figures}{lines}{span}"
                     f"{', '.join(str(n) for n in range(1, 4 + by_day))}", params) if sellers else ():
        prefix, (kind, staff_id, till_id, *values) = row[:by_day], row[by_day:]
        add((*prefix, "staff", "" if staff_id is None else str(staff_id), kind), values)
        add((*prefix, "till", "" if till_id is None else str(till_id), kind), values)
    for row in _rows(f"SELECT {day}s.kind, COALESCE(pc.category, ''), CASE WHEN l.product_id IS NULL THEN 1 ELSE 0 "
                     f"END, l.tax_rate, COUNT(*), {figures}{lines} LEFT JOIN product pc ON pc.id = l.product_id"
                     f"{span}{', '.join(str(n) for n in range(1, 5 + by_day))}", params):
        prefix, (kind, category, one_off, rate, *values) = row[:by_day], row[by_day:]
        add((*prefix, "category", ONE_OFF_ITEMS if one_off else (category or NO_CATEGORY), kind), values)
        add((*prefix, "rate", str(rate), kind), values)
    return {**out, **_live_tenders(lo, hi, scope, by_day=by_day)}


# --- best and worst sellers, abc ---------------------------------------------------------------------------------

_SELLER_COLUMNS = [Column("rank", "#", "int"), Column("sku", "SKU"), Column("name", "Name"),
                   Column("units", "Units", "qty"), Column("revenue", "Revenue", "money"),
                   Column("margin", "Margin", "money"), Column("share", "Share", "pct")]


def _ranked(ids: list[int], metric: list[int], limit: int | None, *, worst: bool) -> list[tuple[int, int, int]]:
    """(metric, product id, position in ``ids``) of the first ``limit`` products (None: all) by ``metric``, the
    highest first (``worst``: the lowest), ties by id, the highest first. Only the products at or past the
    ``limit``-th figure (found by a heap over the bare figures) are put in order: a tuple per product to sort
    took a third of the report."""
    if not ids:
        return []
    if limit is None:
        near: Iterable[int] = range(len(ids))
    else:
        edge = (heapq.nsmallest if worst else heapq.nlargest)(limit, metric)[-1]
        near = itertools.compress(range(len(ids)), map(edge.__ge__ if worst else edge.__le__, metric))
    if worst:
        order = sorted(near, key=lambda n: (metric[n], -ids[n]))
    else:
        order = sorted(near, key=lambda n: (metric[n], ids[n]), reverse=True)
    return [(metric[n], ids[n], n) for n in order[:limit]]


def _with_unsold(ranked: list[tuple[int, int, int | None]], sold: set[int], limit: int | None,
                 scope: _Scope) -> tuple[list[tuple[int, int, int | None]], int]:
    """The worst ``ranked`` sellers with the active products in scope that sold nothing (0 by any metric, ties by
    id, the highest first, position None) in their places; and how many those are. Only as many of them are read
    as can be shown, the highest ids first (reading every product's id was a quarter of the report)."""
    filtered = scope.product_filter()
    # ``NOT p.active`` as written in the partial index ``product_inactive`` (m030)
    inactive = {pid for (pid,) in _rows(f"SELECT p.id FROM product p WHERE NOT p.active{filtered}", scope.params)}
    everyone = _rows(f"SELECT COUNT(*) FROM product p{' WHERE ' + scope.where if scope.where else ''}",
                     scope.params)[0][0]
    unsold = everyone - len(inactive) - len(sold) + len(sold & inactive)  # sold: of the products in scope
    wanted = unsold if limit is None else min(limit, unsold)
    if limit is not None and len(ranked) == limit and ranked[-1][0] < 0:
        wanted = 0  # every one shown sold less than nothing (refunds): no product without a sale comes first
    found: list[int] = []
    below, size = None, 64
    while len(found) < wanted:
        rows = _rows(f"SELECT p.id FROM product p WHERE p.active = ?{'' if below is None else ' AND p.id < ?'}"
                     f"{filtered} ORDER BY p.id DESC LIMIT {size}",
                     [True, *([] if below is None else [below]), *scope.params])
        found += [pid for (pid,) in rows if pid not in sold][:wanted - len(found)]
        if len(rows) < size:
            break
        below, size = rows[-1][0], size * 8
    merged = sorted([*ranked, *((0, pid, None) for pid in found)], key=lambda r: (r[0], -r[1]))
    return (merged if limit is None else merged[:limit]), unsold


@_collector_paused()
def sellers(opts: Options, *, worst: bool = False) -> Report:
    if opts.rank not in RANKS:
        raise InvalidInput(f"--rank must be one of {', '.join(RANKS)}", field="rank", value=opts.rank)
    opts = narrow_to_period(opts)
    limit = _limit(opts, 20)
    with _snapshot():
        scope = _scope(opts)
        sold = product_sales_cache.sold_columns(scope)
        index = RANKS.index(opts.rank)
        metric = (sold.units, sold.revenue, list(map(operator.sub, sold.revenue, sold.cost)) if index == 2 else [])
        ranked: list[tuple[int, int, int | None]] = list(_ranked(sold.ids, metric[index], limit, worst=worst))
        counted = len(sold.ids)
        if worst:  # products that sold nothing are among the worst of all
            ranked, unsold = _with_unsold(ranked, set(sold.ids), limit, scope)
            counted += unsold
        units, revenue, cost = sum(sold.units), sum(sold.revenue), sum(sold.cost)
        whole = (units, revenue, revenue - cost)[index]
        shown = [(pid, (0, 0, 0) if n is None else (sold.units[n], sold.revenue[n], sold.cost[n]))
                 for _, pid, n in ranked]
        info = _products(pid for pid, _ in shown)
    rows = [{"rank": n, "product_id": pid, "sku": info[pid][0], "name": info[pid][1], "units": v[0],
             "revenue": v[1], "margin": v[1] - v[2], "share": pct((v[0], v[1], v[1] - v[2])[index], whole)}
            for n, (pid, v) in enumerate(shown, 1)]
    total = {"rank": None, "sku": "total", "name": _sellers_total_label(counted, worst=worst), "units": units,
             "revenue": revenue, "margin": revenue - cost, "share": 10_000 if whole else None}
    name = "worst-sellers" if worst else "best-sellers"
    title = f"{'Worst' if worst else 'Best'} sellers by {opts.rank}"
    return Report(name, title, _params(opts, scope, rank=opts.rank),
                  [Table("products", _sellers_table_title(title, len(rows), counted), _SELLER_COLUMNS, rows, total,
                         keys={"product": "product_id"})])


def _sellers_total_label(count: int, *, worst: bool) -> str:
    """The total row adds up every product in scope, shown or not (its share is 100 %): the best sellers' are
    those that sold, the worst sellers' every active product as well."""
    return f"all {count} products" if worst else f"all {count} that sold"


def _sellers_table_title(title: str, shown: int, count: int) -> str:
    """Says when ``--limit`` shows fewer rows than the total adds up, so the column is not expected to add up."""
    return title if shown >= count else f"{title}: {shown} of {count} shown, total of all"


@_collector_paused()
def abc(opts: Options, *, a: int = 80, b: int = 95) -> Report:
    """Class A: the products that make the first ``a`` % of revenue; B up to ``b`` %; C the rest (and every
    product that sold nothing). The product that crosses a threshold belongs to the class it completes."""
    opts = narrow_to_period(opts)
    limit = _limit(opts, 0)
    with _snapshot():
        scope = _scope(opts, default_days=365)
        sold = product_sales_cache.sold_columns(scope)
        # every active product and its name in id order (the table's own), and any that sold though inactive now
        listed = _rows(f"SELECT p.id, p.sku, p.name FROM product p WHERE p.active = ?{scope.product_filter()} "
                       "ORDER BY p.id", [True, *scope.params])
        revenue_of = dict(zip(sold.ids, sold.revenue))
        # the inactive ones from the partial index ``product_inactive`` (m030): few, unlike the products that sold
        inactive = [pid for (pid,) in _rows(f"SELECT p.id FROM product p WHERE NOT p.active{scope.product_filter()}",
                                            scope.params) if pid in revenue_of]
        if inactive:
            listed = sorted([*listed, *((pid, sku, name) for pid, (sku, name, _) in _products(inactive).items())])
    count = len(listed)
    revenue = list(map(revenue_of.get, map(operator.itemgetter(0), listed), itertools.repeat(0)))  # in id order
    # positions ranked by revenue, the highest first, then id (a stable sort keeps the id order of ties)
    order = sorted(range(count), key=revenue.__getitem__, reverse=True)
    revenues = list(map(revenue.__getitem__, order))
    # classes by bisection over the running revenue
    with_revenue = bisect.bisect_left(revenues, 0, key=operator.neg)  # the products with revenue come first
    running = list(itertools.accumulate(revenues[:with_revenue]))  # after each of them
    whole = running[-1] if running else 0
    before = [0, *running[:-1]]  # a product is in A while what came before it is under a % of the whole
    a_end = bisect.bisect_left(before, -(-a * whole // 100))
    b_end = max(a_end, bisect.bisect_left(before, -(-b * whole // 100)))
    ends = {"A": (0, a_end), "B": (a_end, b_end), "C": (b_end, count)}
    classes = {c: [hi - lo, sum(revenues[lo:hi])] for c, (lo, hi) in ends.items()}
    shown = count if limit is None else min(limit, count)
    letters = ["A"] * min(a_end, shown) + ["B"] * max(0, min(b_end, shown) - a_end)
    letters += ["C"] * (shown - len(letters))
    if whole:  # pct() of each product's revenue and of the running revenue up to it, in rank order: from the
        # running totals, from the revenues (a nondecreasing list read backwards), and those not above 0 divided
        cumulative = running_shares(running, whole)[:shown]
        cumulative += [10_000] * (shown - len(cumulative))
        shares = running_shares(revenues[with_revenue - 1::-1] if with_revenue else [], whole)[::-1][:shown]
        shares += round_div_all(map(operator.mul, revenues[len(shares):shown], itertools.repeat(10_000)), whole)
    else:
        cumulative = shares = [None] * shown
    if shown == count:
        # every product: the rows built in id order, the order their names were read and lie in memory, then
        # put in rank order (built in rank order, each row's reads missed the cache: three times slower); its
        # class and shares are written at its position first
        classes_of: list[str | None] = [None] * count
        shares_of: list[int | None] = [None] * count
        cumulative_of: list[int | None] = [None] * count
        for n, letter, share, cum in zip(order, letters, shares, cumulative, strict=True):
            classes_of[n] = letter
            shares_of[n] = share
            cumulative_of[n] = cum
        source = zip(listed, classes_of, revenue, shares_of, cumulative_of, strict=True)
    else:
        source = zip(map(listed.__getitem__, order[:shown]), letters, revenues, shares, cumulative)
    rows = [{"product_id": pid, "sku": sku, "name": name, "class": cls, "revenue": revenue, "share": share,
             "cumulative": cum} for (pid, sku, name), cls, revenue, share, cum in source]
    if shown == count:
        rows = list(map(rows.__getitem__, order))
    summary = [{"class": c, "products": n, "revenue": r, "share": pct(r, whole)} for c, (n, r) in classes.items()]
    return Report("abc", "ABC classes by revenue", _params(opts, scope, a=a, b=b), [
        Table("classes", "Classes", [Column("class", "Class"), Column("products", "Products", "int"),
                                     Column("revenue", "Revenue", "money"), Column("share", "Share", "pct")],
              summary, {"class": "total", "products": count, "revenue": sum(r for _, r in classes.values()),
                        "share": 10_000 if whole else None}),
        Table("products", "Products", [Column("sku", "SKU"), Column("name", "Name"), Column("class", "Class"),
                                       Column("revenue", "Revenue", "money"), Column("share", "Share", "pct"),
                                       Column("cumulative", "Cumulative", "pct")],
              rows, keys={"product": "product_id"}),
    ])


# --- slow movers -------------------------------------------------------------------------------------------------

def _last_moves(ids: list[int], rate_from: str, hi: str) -> dict[int, tuple[str | None, str | None, int]]:
    """product id → (its last sale and last receipt before ``hi``, the units it sold from ``rate_from`` to ``hi``
    less those returned), each product's journal read once through the (product, id) index, 500 products a
    query (three queries per product took a third of the report)."""
    out = {}
    for n in range(0, len(ids), 500):
        chunk = ids[n:n + 500]
        for pid, last, received, sold in _rows(
                "SELECT product_id, MAX(CASE WHEN kind = 'sale' THEN created_at END), "
                "MAX(CASE WHEN kind = 'receive' THEN created_at END), "
                "SUM(CASE WHEN kind IN ('sale', 'return') AND created_at >= ? THEN quantity ELSE 0 END) "
                f"FROM movement WHERE product_id IN ({', '.join('?' * len(chunk))}) AND created_at < ? "
                "GROUP BY product_id", [rate_from, *chunk, hi]):
            out[pid] = (last, received, -(sold or 0))
    return out


def slow_movers(opts: Options) -> Report:
    """Products with stock and no sale in the last ``days`` days up to ``--to`` (default today), by the value
    of the stock they tie up; days of cover at the rate they sold over the last ``rate_days`` days."""
    if opts.days < 1 or opts.rate_days < 1:
        raise InvalidInput("--days must be at least 1", field="days", value=opts.days)
    end = opts.end or today()
    limit = _limit(opts, 50)
    with _snapshot():
        scope = _scope(Options(start=end, end=end, category=opts.category, supplier=opts.supplier,
                               product_id=opts.product_id))
        cutoff = local_start(end - dt.timedelta(days=opts.days - 1))
        # products with stock and no sale since the cutoff, from two covering indexes: ``product_value`` and the
        # journal's ``movement_created_at`` (m026); valued and sorted by SQL (in Python it was a third of the report)
        slow = _rows(f"SELECT p.id, p.on_hand, {_round_milli('CAST(p.on_hand AS BIGINT) * p.avg_cost')} AS v "
                     "FROM product p WHERE p.on_hand > 0 AND p.id NOT IN (SELECT product_id FROM movement WHERE "
                     f"created_at >= ? AND created_at < ? AND kind = 'sale'){scope.product_filter()} "
                     "ORDER BY v DESC, p.id", [cutoff, scope.hi, *scope.params])
        shown = slow if limit is None else slow[:limit]
        info = _products(pid for pid, _, _ in shown)
        history = _last_moves([pid for pid, _, _ in shown], local_start(end - dt.timedelta(days=opts.rate_days - 1)),
                              scope.hi)
        rows = []
        for pid, on_hand, value in shown:
            sku, name, _category = info[pid]
            last, received, sold = history.get(pid, (None, None, 0))
            rows.append({"product_id": pid, "sku": sku, "name": name, "on_hand": on_hand, "value": value,
                         "last_sale": times.local_time(last)[:10] if last else "never",
                         "last_received": times.local_time(received)[:10] if received else "",
                         "cover_days": round_div(on_hand * opts.rate_days, sold) if sold > 0 else None})
    total = {"sku": "total", "name": f"{len(slow)} products", "on_hand": sum(map(operator.itemgetter(1), slow)),
             "value": sum(map(operator.itemgetter(2), slow))}
    return Report("slow-movers", f"Slow movers: no sale in {opts.days} days",
                  _params(opts, scope, days=opts.days, rate_days=opts.rate_days), [
                      Table("products", f"Stock with no sale in {opts.days} days, by value tied up",
                            [Column("sku", "SKU"), Column("name", "Name"), Column("on_hand", "On hand", "qty"),
                             Column("value", "Value at cost", "money"), Column("last_sale", "Last sale"),
                             Column("last_received", "Last received"), Column("cover_days", "Cover (days)", "int")],
                            rows, total, keys={"product": "product_id"})])


# --- valuation ---------------------------------------------------------------------------------------------------

AVERAGING_KINDS = ("receive", "return", "supplier_return")
"""Movements that change the moving average cost (``stock.take_in_at_cost``)."""


def stock_at(moment: str, product_ids: Iterable[int] | None = None) -> dict[int, tuple[int, int]]:
    """product id → (on hand, moving average cost) just before ``moment`` (stored UTC text), replayed from the
    journal in id order: a receipt or return averages in its cost as ``stock.moving_average`` did, and so does a
    return to a supplier (out at the order line's cost); every other movement recorded the average of its moment
    as its unit cost.

    Replayed on from the kept state at the month start before ``moment`` (``stock_cache``) with the movements
    since (``_since``), when it still holds; else the month start's state is replayed on from an earlier kept one
    (``stock_cache.derive``) or, with none near, walked (``_walk``), and kept for next time (a few products are
    walked to ``moment`` on their own)."""
    wanted = None if product_ids is None else set(product_ids)
    boundary = stock_cache.boundary_for(moment)
    if boundary is None:
        return _stock_only(_walk(moment, wanted))
    if stock_cache.holds(boundary):
        base = stock_cache.load(boundary, wanted)
    elif wanted is not None:
        return _stock_only(_walk(moment, wanted))
    else:  # from an earlier kept month start, if one is near; else every product walked
        base = stock_cache.derive(boundary)
        if base is None:
            base = _walk(boundary)
        stock_cache.plan(boundary, base)
    state = _stock_only(base)
    state.update(_since(boundary, moment, base, wanted)[0])
    return state


def _since(boundary: str, moment: str, base: stock_cache.State | None = None, wanted: set[int] | None = None
           ) -> tuple[dict[int, tuple[int, int]], stock_cache.State]:
    """The products (of ``wanted``) that moved from ``boundary`` to ``moment``: each one's (on hand, average cost)
    at ``moment``, replayed on from its state at ``boundary`` in ``base`` (read from the kept mark for just these
    products when None), and that base. A product whose movements since do not all come after its last one before
    (ids committed out of order) is walked on its own."""
    # read by date, sorted here: ``ORDER BY`` would have SQLite walk the (product, id) index instead
    moved = _rows("SELECT product_id, id, kind, quantity, unit_cost FROM movement WHERE created_at >= ? AND "
                  "created_at < ?", [boundary, moment])
    moved.sort()  # by product, then id (ids are unique: nothing after them is compared)
    rows: dict[int, list[tuple[str, int, int | None]]] = defaultdict(list)
    first: dict[int, int] = {}
    for pid, mid, kind, qty, cost in moved:
        if wanted is None or pid in wanted:
            rows[pid].append((kind, qty, cost))
            first.setdefault(pid, mid)
    if base is None:
        base = stock_cache.load(boundary, rows)
    out_of_order = {pid for pid, mid in first.items() if pid in base and mid < base[pid][2]}
    changed = {}
    for pid, tail in rows.items():
        qty, avg, _ = base.get(pid, (0, None, 0))
        changed[pid] = _replay(qty, avg, tail)
    if out_of_order:
        changed.update(_stock_only(_walk(moment, out_of_order)))
    return changed, base


def _stock_only(state: stock_cache.State) -> dict[int, tuple[int, int]]:
    return {pid: (qty, avg) for pid, (qty, avg, _) in state.items()}


def _replay(qty: int, avg: int | None, rows: Iterable[tuple[str, int, int | None]]) -> tuple[int, int]:
    """(on hand, average cost) after ``rows`` (kind, quantity, unit cost) from ``qty`` at ``avg`` (None: from a
    product's first movement, whose cost it takes)."""
    for kind, q, cost in rows:
        if avg is None:
            avg = cost or 0
        if cost is not None:
            avg = moving_average(qty, avg, q, cost) if kind in AVERAGING_KINDS else cost
        qty += q
    return qty, avg or 0


def _walk(moment: str, wanted: set[int] | None = None) -> stock_cache.State:
    """``stock_at`` (with each product's last movement id) without a kept state: the average before ``moment``
    only depends on each product's movements from its last sale, adjustment or count with a cost (which sets it)
    on, so only those are read, found from the newest backwards through the (product, id) index, and the quantity
    they start from is the stock then, today's stock less what moved since (``check`` keeps ``on_hand`` equal to
    the journal's sum). The work grows with the products and their movements after ``moment``."""
    setting = ", ".join(f"'{k}'" for k in journal_cache.KINDS if k not in AVERAGING_KINDS)
    after = dict(_rows("SELECT +product_id, SUM(quantity) FROM movement WHERE created_at >= ? GROUP BY +product_id",
                       [moment]))
    on_hand = dict(_rows("SELECT id, on_hand FROM product"))
    tails: dict[int, list[tuple[str, int, int | None]]] = defaultdict(list)
    last: dict[int, int] = {}
    chunks: list[list[int] | None] = [None] if wanted is None else [
        sorted(wanted)[n:n + 500] for n in range(0, len(wanted), 500)]
    for chunk in chunks:
        only = "" if chunk is None else f" WHERE p.id IN ({', '.join('?' * len(chunk))})"
        # CROSS JOIN: SQLite loops over the products, each one's tail read from the (product, id) index
        for pid, mid, kind, qty, cost in _rows(
                "WITH last AS (SELECT p.id AS pid, (SELECT m.id FROM movement m WHERE m.product_id = p.id AND "
                f"m.created_at < ? AND m.unit_cost IS NOT NULL AND m.kind IN ({setting}) ORDER BY m.id DESC LIMIT 1) "
                f"AS lid FROM product p{only}) SELECT m.product_id, m.id, m.kind, m.quantity, m.unit_cost FROM last "
                "CROSS JOIN movement m WHERE m.product_id = last.pid AND m.id >= COALESCE(last.lid, 0) AND "
                "m.created_at < ? ORDER BY m.product_id, m.id", [moment, *(chunk or []), moment]):
            tails[pid].append((kind, qty, cost))
            last[pid] = mid
    state: stock_cache.State = {}
    for pid, rows in tails.items():
        qty = (on_hand.get(pid) or 0) - (after.get(pid) or 0) - sum(q for _, q, _ in rows)
        state[pid] = (*_replay(qty, None, rows), last[pid])
    return state


def _valuation_at(moment: str, scope: _Scope) -> list[tuple]:
    """(category, supplier id, products with stock, on hand, at cost, at retail) of the products in ``scope`` as
    their stock stood just before ``moment``: summed in SQL from the kept state at the month start before it, the
    products that moved since put right here; else (no mark yet) from ``stock_at``, summed here."""
    summed: dict[tuple[str, int | None], list[int]] = {}
    boundary = stock_cache.boundary_for(moment)
    if boundary is not None and stock_cache.holds(boundary):
        changed, before = _since(boundary, moment)
        groups = f"FROM product p WHERE 1 = 1{scope.product_filter()}"
        for category, supplier in _rows(f"SELECT DISTINCT p.category, p.supplier_id {groups}", scope.params):
            summed[(category, supplier)] = [0, 0, 0, 0]  # every group, with stock then or not
        for category, supplier, *values in _rows(
                f"SELECT p.category, p.supplier_id, COUNT(CASE WHEN k.on_hand <> 0 THEN 1 END), SUM(k.on_hand), "
                f"SUM({_extend_sql('k.on_hand', 'k.avg_cost')}), SUM({_extend_sql('k.on_hand', 'p.price')}) "
                f"FROM stock_kept k JOIN product p ON p.id = k.product_id WHERE k.boundary = ?"
                f"{scope.product_filter()} GROUP BY p.category, p.supplier_id", [boundary, *scope.params]):
            summed[(category, supplier)] = [v or 0 for v in values]
        ids = sorted(changed)
        for n in range(0, len(ids), 500):
            chunk = ids[n:n + 500]
            for pid, category, supplier, price in _rows(
                    f"SELECT p.id, p.category, p.supplier_id, p.price FROM product p WHERE p.id IN "
                    f"({', '.join('?' * len(chunk))}){scope.product_filter()}", [*chunk, *scope.params]):
                acc = summed[(category, supplier)]
                qty, cost, _ = before.get(pid, (0, 0, 0))
                _add_stock(acc, qty, cost, price, -1)
                _add_stock(acc, *changed[pid], price)
    else:  # summed here per category and supplier first: a few hundred groups, not a row per product
        past = stock_at(moment)
        for pid, category, supplier, price in _rows(f"SELECT p.id, p.category, p.supplier_id, p.price FROM "
                                                    f"product p WHERE 1 = 1{scope.product_filter()}", scope.params):
            acc = summed.get((category, supplier))
            if acc is None:
                acc = summed[(category, supplier)] = [0, 0, 0, 0]
            _add_stock(acc, *past.get(pid, (0, 0)), price)
    return [(category, supplier, *acc) for (category, supplier), acc in summed.items()]


def _add_stock(acc: list[int], on_hand: int, cost: int, price: int, sign: int = 1) -> None:
    """Add (``sign`` -1: take off) one product's stock to a group's (products with stock, on hand, at cost, at
    retail)."""
    if on_hand:
        acc[0] += sign
        acc[1] += sign * on_hand
        acc[2] += sign * extend(on_hand, cost)
        acc[3] += sign * extend(on_hand, price)


def valuation(opts: Options) -> Report:
    """Stock at moving average cost and at retail (today's price), by category and by supplier; ``at`` values
    the stock as it stood at the end of that local day, replayed from the journal."""
    with _snapshot():
        scope = _scope(Options(category=opts.category, supplier=opts.supplier, product_id=opts.product_id))
        names = dict(_rows("SELECT id, name FROM supplier"))
        if opts.at is None and opts.product_id is None:  # today's stock: the groups kept by the database
            pairs = stock_value.groups(scope.where, scope.params)[0]
        elif opts.at is None:  # one product's: summed in SQL, its value rounded as a line's is
            pairs = _rows(f"SELECT p.category, p.supplier_id, COUNT(CASE WHEN p.on_hand <> 0 THEN 1 END), "
                          f"SUM(p.on_hand), SUM({_extend_sql('p.on_hand', 'p.avg_cost')}), "
                          f"SUM({_extend_sql('p.on_hand', 'p.price')}) "
                          f"FROM product p WHERE 1 = 1{scope.product_filter()} GROUP BY p.category, p.supplier_id",
                          scope.params)
        else:
            pairs = _valuation_at(local_start(opts.at + dt.timedelta(days=1)), scope)
        products = [(category, names.get(supplier, ""), *values) for category, supplier, *values in pairs]
    groups = {"category": defaultdict(lambda: [0, 0, 0, 0]), "supplier": defaultdict(lambda: [0, 0, 0, 0])}
    total = [0, 0, 0, 0]
    for category, supplier, *values in products:
        values = [v or 0 for v in values]
        for key, label in (("category", category or NO_CATEGORY), ("supplier", supplier or "(none)")):
            acc = groups[key][label]
            for i, v in enumerate(values):
                acc[i] += v
        for i, v in enumerate(values):
            total[i] += v
    columns = [Column("products", "Products", "int"), Column("on_hand", "On hand", "qty"),
               Column("cost", "At cost", "money"), Column("retail", "At retail", "money")]

    def table(key: str) -> Table:
        rows = [{key: label, "products": v[0], "on_hand": v[1], "cost": v[2], "retail": v[3]}
                for label, v in sorted(groups[key].items())]
        return Table(key, f"By {key}", [Column(key, key.capitalize()), *columns], rows,
                     {key: "total", "products": total[0], "on_hand": total[1], "cost": total[2], "retail": total[3]},
                     keys={key: key} if key == "category" else {})

    at = (opts.at or today()).isoformat()
    return Report("valuation", f"Stock valuation {'at the end of ' + at if opts.at else 'now'}",
                  {"at": at if opts.at else "now", **{k: v for k, v in _params(opts, scope).items()
                                                      if k not in ("from", "to")}},
                  [table("category"), table("supplier")])


# --- shrinkage ---------------------------------------------------------------------------------------------------

def _reason(kind: str, reason: str) -> str:
    if kind == "count":
        return "count variance"
    return (reason.split(":", 1)[0].strip() or "(no reason)").lower()


@_collector_paused()
def shrinkage(opts: Options) -> Report:
    """Adjustments and count variances by reason, product and period, in units and at cost (the unit cost each
    movement recorded). Gains (found, counted more) are included with their sign; losses are negative. A product's
    opening count (``opening_stock``: an import's ``on_hand``, a first stock take) is its opening stock, left out.

    Summed by SQL three times over the partial covering index ``movement_loss`` (m023), by (kind, reason), by
    product and by stored hour: adding up each movement in Python was most of the report."""
    opts = narrow_to_period(opts)
    limit = _limit(opts, 50)
    with _snapshot():
        scope = _scope(opts)
        bucket = _Bucketer(scope.start, scope.end, opts.by)
        # narrowed to some products, the movements still read by date (``+``: not each product's whole journal
        # through the (product, id) index, seconds for a category)
        join = " JOIN product p ON p.id = +m.product_id" if scope.where else ""
        # ``kind IN ('adjust', 'count')`` as written in the index; each movement's value rounded as ``extend``; a
        # product's opening count is its opening stock, not a variance (``opening_stock``)
        summed = f"SUM(m.quantity), SUM({_extend_sql('CAST(m.quantity AS BIGINT)', 'COALESCE(m.unit_cost, 0)')})"
        base = (f"{summed} FROM movement m{join} WHERE m.kind IN ('adjust', 'count') AND m.created_at >= ? AND "
                f"m.created_at < ? AND NOT {opening_count_sql('m')}{scope.product_filter()} GROUP BY ")
        params = [scope.lo, scope.hi, *scope.params]
        by_reason: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for kind, reason, qty, value in _rows(f"SELECT m.kind, m.reason, {base}m.kind, m.reason", params):
            acc = by_reason[_reason(kind, reason)]
            acc[0] += qty
            acc[1] += value
        by_period = {label: [0, 0] for label in periods(scope.start, scope.end, opts.by)}
        for hour, qty, value in _rows(f"SELECT {bucket.sql('m.created_at')}, {base}1", params):
            acc = by_period[bucket(hour)]
            acc[0] += qty
            acc[1] += value
        # largest loss first (ties by id): sorted by SQL, a row per product that moved
        ranked = _rows(f"SELECT m.product_id, {base}m.product_id ORDER BY 3, 1", params)
        shown = ranked if limit is None else ranked[:limit]
        info = _products(pid for pid, _, _ in shown)
    units, cost = sum(v[0] for v in by_reason.values()), sum(v[1] for v in by_reason.values())
    total = {"units": units, "cost": cost}
    figures = [Column("units", "Units", "qty"), Column("cost", "At cost", "money")]
    return Report("shrinkage", "Shrinkage: adjustments and count variances", _params(opts, scope, by=opts.by), [
        Table("reasons", "By reason", [Column("reason", "Reason"), *figures],
              [{"reason": r, "units": v[0], "cost": v[1]} for r, v in sorted(by_reason.items())],
              {"reason": "total", **total}),
        Table("products", "By product, largest loss first", [Column("sku", "SKU"), Column("name", "Name"), *figures],
              [{"product_id": pid, "sku": info[pid][0], "name": info[pid][1], "units": qty, "cost": value}
               for pid, qty, value in shown], {"sku": "total", "name": f"{len(ranked)} products", **total},
              keys={"product": "product_id"}),
        Table("periods", f"By {opts.by}", [Column("period", opts.by.capitalize()), *figures],
              [{"period": p, "units": v[0], "cost": v[1]} for p, v in by_period.items()],
              {"period": "total", **total}, keys={"period": "period"}),
    ])


# --- movement ----------------------------------------------------------------------------------------------------

MOVEMENT_KINDS = tuple(zip(journal_cache.KINDS, journal_cache.COLUMNS, strict=True))
"""(kind, column): received, sold, returned, adjusted, counted, to_supplier (``movement`` writes them out)."""
assert [c for _, c in MOVEMENT_KINDS] == ["received", "sold", "returned", "adjusted", "counted", "to_supplier"]


def movement(opts: Options) -> Report:
    """Per product: opening stock, each kind of movement, closing stock. Closing is today's stock less what
    moved after the range, opening is closing less what moved in it: both reconcile with the journal to the
    unit (``check`` keeps ``on_hand`` equal to the journal's sum)."""
    opts = narrow_to_period(opts)
    limit = _limit(opts, 0)
    with _snapshot():
        scope = _scope(opts)
        if opts.product_id is not None:  # one product's rows, from the (product, id) index
            moved = journal_cache.live(scope.lo, scope.hi, scope.where, scope.params)[0]
        else:  # whole months from the kept running totals (``journal_cache``), checked against the journal; a
            # category or supplier keeps its own products below
            moved = journal_cache.sums(scope.lo, scope.hi)
        join = " JOIN product p ON p.id = m.product_id" if scope.where else ""
        after = dict(_rows(f"SELECT +m.product_id, SUM(m.quantity) FROM movement m{join} WHERE m.created_at >= ?"
                           f"{scope.product_filter()} GROUP BY +m.product_id", [scope.hi, *scope.params]))
        where = f" AND {scope.where}" if scope.where else ""
        stock = _rows(f"SELECT p.id, p.sku, p.name, p.on_hand FROM product p WHERE 1 = 1{where} ORDER BY p.sku",
                      scope.params)
    # the totals from the sums themselves, by C loops: a product with no row adds nothing to any figure
    if scope.where:
        ids = set(map(operator.itemgetter(0), stock))
        moved = {pid: kinds for pid, kinds in moved.items() if pid in ids}
    kinds_total = [sum(map(operator.itemgetter(n), moved.values())) for n in range(len(MOVEMENT_KINDS))]
    closing_total = sum(map(operator.itemgetter(3), stock)) - sum(after.values())
    total = dict(zip(["opening", *[c for _, c in MOVEMENT_KINDS], "closing"],
                     [closing_total - sum(kinds_total), *kinds_total, closing_total], strict=True))
    nothing = (0,) * len(MOVEMENT_KINDS)
    kinds_of = moved.get
    rows = []
    for pid, sku, name, on_hand in stock:  # up to a row per product: written out, twice as fast as built
        kinds = kinds_of(pid, nothing)
        closing = on_hand - after.get(pid, 0) if after else on_hand
        received, sold, returned, adjusted, counted, to_supplier = kinds
        opening = closing - received - sold - returned - adjusted - counted - to_supplier
        if opening == 0 and closing == 0 and not any(kinds):
            continue
        if limit is not None and len(rows) == limit:
            break
        rows.append({"product_id": pid, "sku": sku, "name": name, "opening": opening, "received": received,
                     "sold": sold, "returned": returned, "adjusted": adjusted, "counted": counted,
                     "to_supplier": to_supplier, "closing": closing})
    columns = [Column("sku", "SKU"), Column("name", "Name"), Column("opening", "Opening", "qty"),
               *[Column(c, c.replace("_", " ").capitalize(), "qty") for _, c in MOVEMENT_KINDS],
               Column("closing", "Closing", "qty")]
    return Report("movement", "Stock movement", _params(opts, scope), [
        Table("products", "Opening, movements, closing", columns, rows, {"sku": "total", "name": "", **total},
              keys={"product": "product_id"})])


# --- one entry point ----------------------------------------------------------------------------------------------

BUILDERS: dict[str, Callable[[Options], Report]] = {
    "sales": sales,
    "best-sellers": sellers,
    "worst-sellers": lambda opts: sellers(opts, worst=True),
    "slow-movers": slow_movers,
    "valuation": valuation,
    "shrinkage": shrinkage,
    "movement": movement,
    "abc": abc,
}


def run(name: str, opts: Options) -> Report:
    """Build report ``name`` (one of ``REPORTS``)."""
    builder = BUILDERS.get(name)
    if builder is None:
        raise InvalidInput(f"no report {name!r}: one of {', '.join(REPORTS)}", field="report", value=name)
    sales_cache.forget_pending()
    product_sales_cache.forget_pending()
    journal_cache.forget_pending()
    stock_cache.forget_pending()
    stock_value.forget_pending()
    with _snapshot():
        report = builder(opts)
    sales_cache.keep()  # the closed hours this report had to read live, for the next one
    product_sales_cache.keep()  # and the span of days it summed per product
    journal_cache.keep()  # and the month starts of the journal it derived
    stock_cache.keep()  # and the stock at the month start it replayed from
    stock_value.keep()  # and the kept stock value's rows summed per group, if they piled up
    return report


def run_detached(name: str, opts: Options) -> Report:
    """``run`` from a thread worker: on its own connection (Peewee's connections are per thread), closed after."""
    with database.connection_context():
        return run(name, opts)
