"""Kept sums of closed hours of sales, so a year of sales by day need not re-add every sale line.

The sale tables are append-only, so what an hour adds up to only changes when a sale of that hour commits late
(PostgreSQL: a till's transaction takes its time stamp before it commits, and ids commit out of order). Each kept
hour therefore records how many sale rows it was summed from (``sale_rows``), and a figure is used only while the
sale table still holds exactly that many rows in that hour: rows are never deleted, so an equal count means the
same rows. One ``COUNT(*)`` over the range (an index range count) checks every kept hour at once; only when it
disagrees are the hours counted one by one and the changed ones read again. A report is thus always equal to a full
recomputation from the journal, kept hours or not (the property test in tests/services checks exactly that).

Hours are UTC hours: a local day in a zone whose offset is whole hours is a run of them; other zones, and reports
narrowed to a category, supplier or product, read the sale lines directly (``reports.sales``). The table
(``sales_hour``, migration 6) is a cache: deleting its rows loses nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


from shopkeeper.db import is_sqlite, kept_figures_written, utcnow, write_transaction
from shopkeeper.models import database

enabled = True
"""Switched off by the bench (and tests) to time and check the plain recomputation."""

_pending: list[tuple[Any, ...]] = []
"""Closed hours read live by the report being built, written by ``keep`` once its read snapshot is over."""
_pending_days: list[tuple[Any, ...]] = []
_sellers: dict[str, dict[tuple[str, str, str], list[int]]] = {}
"""UTC day → (``staff`` or ``till``, key, kind) → figures, from the hours the report being built read live."""
_hours_read: dict[str, int] = {}
"""UTC day → how many of its hours the report being built read live (24: ``_sellers`` holds the whole day)."""

MAX_RUNS = 24
"""More separate runs of hours to read live than this: one query over their whole span instead."""


_HOURS = [f"T{hour:02d}" for hour in range(24)]
_HOUR, _DAY = dt.timedelta(hours=1), dt.timedelta(days=1)


def _hour_keys(lo: str, hi: str) -> list[str]:
    """``YYYY-MM-DDTHH`` of every UTC hour from ``lo`` up to ``hi`` (stored UTC text on hour boundaries). Whole
    days at once: a year is 8760 hours, and formatting each one took a tenth of the sales report."""
    start = dt.datetime.fromisoformat(lo[:13] + ":00:00+00:00")
    end = dt.datetime.fromisoformat(hi.replace("Z", "+00:00"))
    keys = []
    while start < end and (start.hour or start + _DAY > end):
        keys.append(start.strftime("%Y-%m-%dT%H"))
        start += _HOUR
    day = start.date()
    while start + _DAY <= end:
        text = day.isoformat()
        keys.extend([text + hour for hour in _HOURS])
        start += _DAY
        day += _DAY
    while start < end:
        keys.append(start.strftime("%Y-%m-%dT%H"))
        start += _HOUR
    return keys


def _bounds(hour: str) -> tuple[str, str]:
    start = dt.datetime.fromisoformat(hour + ":00:00+00:00")
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    return start.strftime(fmt), (start + dt.timedelta(hours=1)).strftime(fmt)


def _runs(hours: list[str]) -> list[tuple[str, str]]:
    """Contiguous runs of ``hours`` (sorted) as UTC text ranges."""
    runs: list[list[str]] = []
    for hour in hours:
        lo, hi = _bounds(hour)
        if runs and runs[-1][1] == lo:
            runs[-1][1] = hi
        else:
            runs.append([lo, hi])
    return [(lo, hi) for lo, hi in runs]


def _read_live(hours: list[str]) -> dict[tuple[str, str], list[int]]:
    """(UTC hour, kind) → figures of ``hours``, from their sale lines; and, on the way, each UTC day's figures by
    staff and till (``_sellers``), so that ``groups`` need not read the lines of a day read whole here again."""
    from shopkeeper.services.reports import LINE_COGS, _rows

    if not hours:
        return {}
    wanted = set(hours)
    runs = _runs(sorted(hours))
    if len(runs) > MAX_RUNS:
        runs = [(runs[0][0], runs[-1][1])]
    found: dict[tuple[str, str], list[int]] = {}
    for lo, hi in runs:
        for hour, kind, staff_id, till_id, *values in _rows(
                "SELECT substr(s.created_at, 1, 13), s.kind, s.staff_id, s.terminal_id, "
                "SUM(CASE WHEN l.line_no = 1 THEN 1 ELSE 0 END), SUM(l.total), SUM(l.tax), SUM(l.discount), "
                f"SUM({LINE_COGS}) FROM sale_line l JOIN sale s ON s.id = l.sale_id WHERE s.created_at >= ? AND "
                "s.created_at < ? GROUP BY 1, 2, 3, 4", [lo, hi]):
            if hour not in wanted:
                continue
            _add_into(found, (hour, kind), values)
            sellers = _sellers.setdefault(hour[:10], {})
            _add_into(sellers, ("staff", "" if staff_id is None else str(staff_id), kind), values)
            _add_into(sellers, ("till", "" if till_id is None else str(till_id), kind), values)
    for hour in wanted:
        _hours_read[hour[:10]] = _hours_read.get(hour[:10], 0) + 1
    return found


def _add_into(into: dict[Any, list[int]], key: Any, values: list[int]) -> None:
    acc = into.get(key)
    into[key] = [v or 0 for v in values] if acc is None else [a + (v or 0) for a, v in zip(acc, values)]


def figures(lo: str, hi: str) -> dict[tuple[str, str], list[int]]:
    """(UTC hour, kind) → sales, total, tax, discount, cost of goods, for the sales from ``lo`` to ``hi``: kept
    hours checked against the sale table, the rest read live. Call inside the report's read snapshot."""
    from shopkeeper.services.reports import _rows

    hours = _hour_keys(lo, hi)
    open_from = utcnow()[:13]  # this hour is still being written: never kept
    kept: dict[tuple[str, str], list[int]] = {}
    kept_rows: dict[str, int] = {}
    for hour, kind, sale_rows, *values in _rows(
            "SELECT hour, kind, sale_rows, sales, total, tax, discount, cogs FROM sales_hour "
            "WHERE hour >= ? AND hour < ?", [hours[0] if hours else lo, hi[:13]]):
        kept[(hour, kind)] = values
        kept_rows[hour] = sale_rows
    missing = [h for h in hours if h not in kept_rows]
    live = _read_live(missing)
    counted = sum(kept_rows.values()) + sum(v[0] for v in live.values())
    in_range = _rows("SELECT COUNT(*) FROM sale WHERE created_at >= ? AND created_at < ?", [lo, hi])[0][0]
    if in_range != counted:  # some kept hour gained a late sale: find which, and read those again
        per_hour = dict(_rows("SELECT substr(created_at, 1, 13), COUNT(*) FROM sale WHERE created_at >= ? AND "
                              "created_at < ? GROUP BY 1", [lo, hi]))
        changed = [h for h, n in kept_rows.items() if per_hour.get(h, 0) != n]
        kept = {key: v for key, v in kept.items() if key[0] not in changed}
        live.update(_read_live(changed))
        missing += changed
    # keep the closed hours read live (an hour without sales too: it is known to be empty); the figures are put
    # under their hours first, in one pass (looking each hour's up among all a year read was quadratic: seconds)
    by_hour: dict[str, list[tuple[str, list[int]]]] = {}
    for (hour, kind), values in live.items():
        by_hour.setdefault(hour, []).append((kind, values))
    for hour in missing:
        if hour >= open_from:
            continue
        kinds = by_hour.get(hour) or [("sale", [0, 0, 0, 0, 0])]
        sale_rows = sum(values[0] for _kind, values in kinds)
        _pending.extend((hour, kind, sale_rows, *values) for kind, values in kinds)
    return {**kept, **live}


def forget_pending() -> None:
    """Start a report afresh (what an earlier, failed report read belongs to its own moment and database)."""
    _pending.clear()
    _pending_days.clear()
    _sellers.clear()
    _hours_read.clear()


def _day_start(text: str, *, up: bool) -> str:
    """The UTC midnight at or after (``up``) or at or before ``text``, as stored UTC text."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if up and midnight < moment:
        midnight += dt.timedelta(days=1)
    return midnight.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def groups(lo: str, hi: str) -> dict[tuple, list[int]]:
    """(dimension, key, kind) → sales, total, tax, discount, cost of goods (``reports._live_groups``) for the
    sales from ``lo`` to ``hi``: whole UTC days from the kept days (checked as hours are), the part days at each
    end of the range read live. Works in any time zone: only the ends are local."""
    from shopkeeper.services.reports import _live_groups, _rows

    first, last = _day_start(lo, up=True), _day_start(hi, up=False)
    if first >= last:
        return _live_groups(lo, hi)
    days = [key[:10] for key in _hour_keys(first, last)[::24]]
    today = utcnow()[:10]
    span = [days[0], last[:10]]
    # every row of a kept day holds the day's sale rows; the figures are summed over the days in SQL (a year is
    # some 20k rows, which took a third of the sales report to add up here)
    kept_rows: dict[str, int] = dict(_rows("SELECT day, MAX(sale_rows) FROM sales_day WHERE day >= ? AND day < ? "
                                           "GROUP BY day", span))

    def live_days(wanted: list[str]) -> dict[tuple, list[int]]:
        found: dict[tuple, list[int]] = {}
        want = set(wanted)
        spans: list[list[str]] = []
        for day in sorted(wanted):
            start = f"{day}T00:00:00.000000Z"
            end = _bounds(f"{day}T23")[1]  # the next midnight
            if spans and spans[-1][1] == start:
                spans[-1][1] = end
            else:
                spans.append([start, end])
        if len(spans) > MAX_RUNS:
            spans = [[spans[0][0], spans[-1][1]]]
        for span_lo, span_hi in spans:
            # staff and till of days whose every hour ``figures`` read live are summed already: not read again
            days_in = [key[:10] for key in _hour_keys(span_lo, span_hi)[::24]]
            read = all(_hours_read.get(day) == 24 for day in days_in)
            for key, values in _live_groups(span_lo, span_hi, by_day=True, sellers=not read).items():
                if key[0] in want:
                    found[key] = values
            if read:
                for day in days_in:
                    if day in want:
                        for (dim, key, kind), values in _sellers.get(day, {}).items():
                            found[(day, dim, key, kind)] = values
        return found

    missing = [d for d in days if d not in kept_rows]
    live = live_days(missing)

    def sales_of(found: dict[tuple, list[int]]) -> dict[str, int]:
        per_day: dict[str, int] = {}
        for (day, dim, _key, _kind), values in found.items():
            if dim == "rounding":  # one row per day and kind, counting every sale
                per_day[day] = per_day.get(day, 0) + values[0]
        return per_day

    counted = sum(kept_rows.values()) + sum(sales_of(live).values())
    in_range = _rows("SELECT COUNT(*) FROM sale WHERE created_at >= ? AND created_at < ?", [first, last])[0][0]
    if in_range != counted:
        per_day = dict(_rows("SELECT substr(created_at, 1, 10), COUNT(*) FROM sale WHERE created_at >= ? AND "
                             "created_at < ? GROUP BY 1", [first, last]))
        changed = [d for d, n in kept_rows.items() if per_day.get(d, 0) != n]
        live.update(live_days(changed))
        missing += changed
    skip = [d for d in missing if d in kept_rows]  # kept days that changed, read again
    not_in = f" AND day NOT IN ({', '.join('?' * len(skip))})" if skip else ""
    kept = {(dim, key, kind): values for dim, key, kind, *values in _rows(
        "SELECT dim, key, kind, SUM(sales), SUM(total), SUM(tax), SUM(discount), SUM(cogs) FROM sales_day WHERE "
        f"day >= ? AND day < ? AND dim <> ''{not_in} GROUP BY dim, key, kind", span + skip)}
    counts = sales_of(live)
    by_day: dict[str, list[tuple]] = {}  # in one pass, not a search of all the live rows per day
    for key, values in live.items():
        by_day.setdefault(key[0], []).append((*key[1:], values))
    for day in missing:
        if day >= today:
            continue
        for dim, key, kind, values in by_day.get(day) or [("", "", "sale", [0, 0, 0, 0, 0])]:
            _pending_days.append((day, dim, key, kind, counts.get(day, 0), *values))
    out: dict[tuple, list[int]] = {}
    for part in (kept, live, _live_groups(lo, first), _live_groups(last, hi)):
        for key, values in part.items():
            key = key[1:] if len(key) == 4 else key
            acc = out.setdefault(key, [0, 0, 0, 0, 0])
            for i, v in enumerate(values):
                acc[i] += v
    return out


def keep() -> None:
    """Write the hours the last report read live (after its read snapshot: SQLite takes the write lock then).
    Best effort: a busy database keeps them for another time, and nothing but speed depends on them."""
    if not _pending and not _pending_days:
        return
    hours, days = list(_pending), list(_pending_days)
    forget_pending()
    with kept_figures_written():
        _upsert("sales_hour", ("hour", "kind"), hours)
        _upsert("sales_day", ("day", "dim", "key", "kind"), days)


_FIGURES = ("sale_rows", "sales", "total", "tax", "discount", "cogs")


def _upsert(table: str, key: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Insert (or replace) kept rows, ``key`` then ``_FIGURES``, in as few statements as the driver allows: one
    ``executemany`` on SQLite; on PostgreSQL several hundred rows a statement (psycopg2's ``executemany`` is a round
    trip a row). A year's first report keeps some 40k rows: written one statement each, that took seconds."""
    if not rows:
        return
    db = database.obj
    rows = list({row[:len(key)]: row for row in rows}.values())  # each key once: PostgreSQL refuses it twice
    one = f"({', '.join([db.param] * (len(key) + len(_FIGURES)))})"
    head = f"INSERT INTO {table} ({', '.join(key + _FIGURES)}) VALUES "
    tail = (f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
            + ", ".join(f"{column} = excluded.{column}" for column in _FIGURES))
    if is_sqlite(db):
        db.cursor().executemany(head + one + tail, rows)
        return
    for n in range(0, len(rows), 500):
        chunk = rows[n:n + 500]
        db.execute_sql(head + ", ".join([one] * len(chunk)) + tail, [v for row in chunk for v in row])


def clear() -> None:
    """Forget every kept hour (the next report reads them all again)."""
    with write_transaction():
        database.obj.execute_sql("DELETE FROM sales_hour")
        database.obj.execute_sql("DELETE FROM sales_day")
