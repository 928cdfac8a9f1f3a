"""Kept per-product sales of closed spans of UTC days, so a year of best sellers need not re-add a year of lines.

Per-product sums of a day or a month barely compress (a product sells a few times a month), but the sums of a whole
span do: a year of sale lines (about a million on a big shop) is one entry per product that sold (about 100k). So
a report over a range of days keeps its products' units, revenue, cost of goods and lines for the whole UTC days
in it (a *span*, ``product_sales_span``), and the next report over the same or a nearby range starts from the
nearest kept span: it adds the days the span lacks and takes off the days it has too much, read live from the
sale lines (tomorrow's year is yesterday's plus a day, less a day). The part days at the ends of a local range,
and today (still being written), are always read live. A span is one row, its figures packed as 64-bit integers
(``packed_figures``): reading and building 100k rows one by one took longer than the rest of a report.

Like ``sales_cache``, a span records how many sale rows it was summed from and is used only while the sale table
still holds exactly that many rows in its days: rows are never deleted, so an equal count means the same rows, and
a sale stamped inside the span that commits late (PostgreSQL: ids and time stamps commit out of order) makes the
count disagree and the span is dropped. One index range count checks a span; on SQLite, where a row committed
later always has a higher id, a probe for a row in its days after the last sale id it saw (``_holds``). So a figure
always equals a full recomputation from the sale lines, kept spans or not, and the table may be emptied at any
time (``clear``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shopkeeper.db import is_sqlite, kept_figures_written, utcnow, write_transaction
from shopkeeper.models import database
from shopkeeper.services import packed_figures

if TYPE_CHECKING:
    from shopkeeper.services.reports import _Scope

enabled = True
"""Switched off by the bench (and tests) to time and check the plain recomputation."""

MIN_DAYS = 7
"""Ranges of fewer whole UTC days than this are read live: a week of lines is quick to add up."""

MAX_SPANS = 8
"""Spans kept at most; the one kept longest ago goes first. Each holds 40 bytes per product that sold in it."""

MAX_TRIES = 2
"""Kept spans checked at most per report (each check an index range count, or a probe on SQLite) before reading
live."""

_EPOCH = dt.date(1970, 1, 1)

_pending: list[tuple[int, int, int, bytes, int | None]] = []
"""Spans summed by the report being built (first day, end day, sale rows, packed figures, the last sale id it
saw), kept by ``keep``."""
_stale: list[tuple[int, int]] = []
"""Kept spans a late sale made wrong, dropped by ``keep``."""


def _day_number(text: str, *, up: bool) -> int:
    """Days since 1970-01-01 of the UTC midnight at or after (``up``) or at or before stored UTC text."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)
    day = moment.date()
    if up and moment.time() != dt.time():
        day += dt.timedelta(days=1)
    return (day - _EPOCH).days


def _midnight(day: int) -> str:
    """Stored UTC text of the midnight starting day number ``day``."""
    return f"{_EPOCH + dt.timedelta(days=day)}T00:00:00.000000Z"


def _count(first: int, end: int) -> int:
    from shopkeeper.services.reports import _rows

    return _rows("SELECT COUNT(*) FROM sale WHERE created_at >= ? AND created_at < ?",
                 [_midnight(first), _midnight(end)])[0][0]


def _holds(first: int, end: int, sale_rows: int, last_sale_id: int | None) -> bool:
    """Whether a kept span still sums every sale row of its days. On SQLite a row committed after the span's read
    snapshot has a higher id than any row in it (one write transaction at a time, rows never deleted), so one
    probe of the rows after its last sale id tells (counting a year of rows took a sixth of worst-sellers);
    elsewhere (PostgreSQL: ids commit out of order), and for a span kept without that id, its days' rows are
    counted again."""
    from shopkeeper.services.reports import _rows

    if last_sale_id is not None and is_sqlite(database.obj):
        # ``+created_at``: walk the rows after the id by rowid, not a year of the date index
        return not _rows("SELECT 1 FROM sale WHERE id > ? AND +created_at >= ? AND +created_at < ? LIMIT 1",
                         [last_sale_id, _midnight(first), _midnight(end)])
    return _count(first, end) == sale_rows


def live(lo: str, hi: str, scope: _Scope | None = None) -> dict[int, list[int]]:
    """product id → [units, revenue (net of tax), cost of goods, lines] of the sale lines from ``lo`` to ``hi``,
    refunds taken off, narrowed to ``scope``'s products. The number of lines tells which products sold at all
    once spans are added and taken off. Grouped by kind too, so that the sign is applied once per group in Python
    rather than once per line in SQL."""
    from shopkeeper.services.reports import LINE_COST, _rows

    out: dict[int, list[int]] = {}
    if lo >= hi:
        return out
    where = scope.product_filter() if scope else ""
    join = " JOIN product p ON p.id = l.product_id" if where else ""
    found = _rows(f"SELECT l.product_id, s.kind, SUM(l.quantity), SUM(l.total - l.tax), SUM({LINE_COST}), COUNT(*)"
                  f" FROM sale_line l JOIN sale s ON s.id = l.sale_id{join}"
                  f" WHERE l.product_id IS NOT NULL AND s.created_at >= ? AND s.created_at < ?{where}"
                  " GROUP BY 1, 2", [lo, hi, *(scope.params if where and scope else [])])
    for pid, kind, units, revenue, cost, lines in found:
        sign = -1 if kind == "return" else 1
        acc = out.setdefault(pid, [0, 0, 0, 0])
        acc[0] += sign * (units or 0)
        acc[1] += revenue or 0  # stored negative on a refund already
        acc[2] += sign * (cost or 0)
        acc[3] += lines
    return out


def _add(into: dict[int, Sequence[int]], part: dict[int, Sequence[int]], sign: int = 1) -> None:
    """Add (or take off) ``part``'s figures into ``into``'s, as new lists (kept figures are tuples)."""
    for pid, values in part.items():
        acc = into.get(pid)
        if acc is None:
            into[pid] = [sign * v for v in values]
        else:
            into[pid] = [a + sign * v for a, v in zip(acc, values, strict=True)]


def _blob(first: int, end: int) -> bytes:
    from shopkeeper.services.reports import _rows

    blob = _rows("SELECT figures FROM product_sales_span WHERE first_day = ? AND end_day = ?", [first, end])[0][0]
    return bytes(blob)  # PostgreSQL's driver may hand a memoryview


def _kept(first: int, end: int, scope: _Scope) -> dict[int, Sequence[int]]:
    from shopkeeper.services.reports import _rows

    found: dict[int, Sequence[int]] = packed_figures.unpack(_blob(first, end), 4)
    if scope.where:  # narrowed to some products
        wanted = {pid for (pid,) in _rows(f"SELECT p.id FROM product p WHERE {scope.where}", scope.params)}
        found = {pid: values for pid, values in found.items() if pid in wanted}
    return found


def _moved(kept_from: int, kept_to: int, want_from: int, want_to: int) -> list[tuple[int, int, int]]:
    """(first day, end day, sign) of the day ranges that turn the span ``kept_from..kept_to`` into
    ``want_from..want_to``: days to add (+1) and days to take off (-1)."""
    parts = []
    if want_from < kept_from:
        parts.append((want_from, kept_from, 1))
    elif kept_from < want_from:
        parts.append((kept_from, want_from, -1))
    if kept_to < want_to:
        parts.append((kept_to, want_to, 1))
    elif want_to < kept_to:
        parts.append((want_to, kept_to, -1))
    return parts


@dataclass
class Sold:
    """The products that sold and their figures by column: ``ids[n]`` sold ``units[n]``, ``revenue[n]``,
    ``cost[n]`` in ``lines[n]`` sale lines. A report that sums or ranks one figure over 100k products reads it
    as one list (a dict of a tuple per product took a quarter of worst-sellers to build)."""

    ids: list[int]
    units: list[int]
    revenue: list[int]
    cost: list[int]
    lines: list[int]

    @classmethod
    def of(cls, figures: dict[int, Sequence[int]]) -> Sold:
        columns = [list(column) for column in zip(*figures.values())] or [[], [], [], []]
        return cls(list(figures), *columns)

    def add(self, part: dict[int, Sequence[int]]) -> None:
        """Add the figures of ``part`` (a few thousand products at most: the part days at a range's ends)."""
        if not part:
            return
        at = dict(zip(self.ids, range(len(self.ids))))
        columns = (self.units, self.revenue, self.cost, self.lines)
        for pid, values in part.items():
            n = at.get(pid)
            if n is None:
                self.ids.append(pid)
                for column, v in zip(columns, values, strict=True):
                    column.append(v)
            else:
                for column, v in zip(columns, values, strict=True):
                    column[n] += v


def _summed(scope: _Scope) -> tuple[bytes | dict[int, Sequence[int]], dict[int, Sequence[int]]]:
    """The sales over ``scope`` in two parts to be added: the whole UTC days, either a kept span's packed figures
    as they are (the range's whole days are a kept span's and it is not narrowed) or product id → figures; and
    the part days at the ends, read live."""
    first = _day_number(scope.lo, up=True)
    end = min(_day_number(scope.hi, up=False), _day_number(utcnow(), up=False))  # today is never kept
    if not enabled or end - first < MIN_DAYS:
        return live(scope.lo, scope.hi, scope), {}
    from shopkeeper.services.reports import _rows

    spans = _rows("SELECT first_day, end_day, sale_rows, last_sale_id FROM product_sales_span")
    spans.sort(key=lambda s: (abs(s[0] - first) + abs(s[1] - end), -s[1]))
    middle: bytes | dict[int, Sequence[int]] | None = None
    sale_rows, exact, taken_off = 0, False, False
    for kept_from, kept_to, kept_rows, last_sale_id in spans[:MAX_TRIES]:
        if abs(kept_from - first) + abs(kept_to - end) >= end - first:
            break  # reading the range itself is no dearer
        if not _holds(kept_from, kept_to, kept_rows, last_sale_id):  # a late sale landed in it
            _stale.append((kept_from, kept_to))
            continue
        exact = (kept_from, kept_to) == (first, end)
        if exact and not scope.where:
            middle = _blob(first, end)
            break
        middle, sale_rows = _kept(kept_from, kept_to, scope), kept_rows
        for part_from, part_to, sign in _moved(kept_from, kept_to, first, end):
            _add(middle, live(_midnight(part_from), _midnight(part_to), scope), sign)
            sale_rows += sign * _count(part_from, part_to)
            taken_off = taken_off or sign < 0
        break
    if middle is None:
        middle, sale_rows = live(_midnight(first), _midnight(end), scope), _count(first, end)
    if taken_off:  # a product whose every line was in the days taken off did not sell in this range
        middle = {pid: v for pid, v in middle.items() if v[3]}
    edges = live(scope.lo, _midnight(first), scope)
    _add(edges, live(_midnight(end), scope.hi, scope))
    if not exact and not scope.where:  # a narrowed report's sums are only some of the products'
        assert isinstance(middle, dict)
        packed = packed_figures.pack(middle)
        if packed is not None:
            last = _rows("SELECT MAX(id) FROM sale")[0][0]
            _pending.append((first, end, sale_rows, packed, last))
    return middle, edges


def product_sales(scope: _Scope) -> dict[int, Sequence[int]]:
    """product id → [units, revenue, cost of goods, lines] of the products that sold over ``scope`` (as ``live``),
    from the nearest kept span checked against the sale table, the days it lacks or has too much and the ends read
    live. Call inside the report's read snapshot; ``keep`` afterwards writes the span of this range for the next
    report. The caller may change the dict it gets, not the figures in it."""
    middle, edges = _summed(scope)
    if isinstance(middle, bytes):
        middle = packed_figures.unpack(middle, 4)
    _add(middle, edges)
    return middle


def sold_columns(scope: _Scope) -> Sold:
    """``product_sales`` by column (the caller may change the lists)."""
    middle, edges = _summed(scope)
    found = Sold(*packed_figures.unpack_columns(middle, 4)) if isinstance(middle, bytes) else Sold.of(middle)
    found.add(edges)
    return found


def forget_pending() -> None:
    """Start a report afresh (what an earlier, failed report read belongs to its own moment and database)."""
    _pending.clear()
    _stale.clear()


def keep() -> None:
    """Write the spans the last report summed and drop those found stale (after its read snapshot: SQLite takes
    the write lock then). Best effort: a busy database keeps them for another time; nothing but speed depends
    on them. The oldest spans beyond ``MAX_SPANS`` are dropped."""
    if not _pending and not _stale:
        return
    pending, stale = list(_pending), list(_stale)
    forget_pending()
    db = database.obj
    p = db.param
    now = utcnow()
    with kept_figures_written():
        for first, end in stale + [(first, end) for first, end, *_ in pending]:
            db.execute_sql(f"DELETE FROM product_sales_span WHERE first_day = {p} AND end_day = {p}", (first, end))
        for first, end, sale_rows, packed, last in pending:
            db.execute_sql(f"INSERT INTO product_sales_span (first_day, end_day, sale_rows, kept_at, figures, "
                           f"last_sale_id) VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
                           (first, end, sale_rows, now, packed, last))
        spans = db.execute_sql("SELECT first_day, end_day FROM product_sales_span ORDER BY kept_at DESC, "
                               "first_day, end_day").fetchall()
        for first, end in spans[MAX_SPANS:]:
            db.execute_sql(f"DELETE FROM product_sales_span WHERE first_day = {p} AND end_day = {p}", (first, end))


def clear() -> None:
    """Forget every kept span (the next report reads its range again)."""
    with write_transaction():
        database.obj.execute_sql("DELETE FROM product_sales_span")
