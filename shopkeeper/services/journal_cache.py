"""Kept running totals of the journal at closed UTC month starts, so a year of the ``movement`` report need not
re-add a million journal rows.

Per product and kind, what the journal moved from a month start to another is the difference of two running totals.
A running total here is counted from an *anchor* (the first month start a report asked for), not from the shop's
first day, so keeping one never reads the whole journal: a mark (``journal_mark``) is a month start, its anchor,
the number of journal rows between the two (negative before the anchor) and its totals per product, packed in the
mark's own row (``packed_figures``: 100k rows of totals took a third of the report to read back). A new mark is only ever derived from the outermost mark of its anchor by adding (or taking off)
one live read of the months between them, so between any two marks of an anchor lies a run of links, each summed
from exactly the rows it counted.

The journal is append-only, but a movement stamped in a closed month can commit late (PostgreSQL: several tills,
ids out of order). So two marks are used only while the journal still holds exactly as many rows between them as
their counts say: rows are never deleted and each link's rows were all there when it was read, so an equal count
means the same rows (one index range count). When it disagrees the range is read live and every mark is dropped
(rebuilt by the next report). A figure therefore always equals a full recomputation; the tables are a cache and may
be emptied at any time (``clear``). At most ``MAX_MARKS`` marks are kept (about one row per product each).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any


from shopkeeper.db import is_sqlite, kept_figures_written, utcnow, write_transaction
from shopkeeper.models import database
from shopkeeper.services import packed_figures, stock

KINDS = stock.KINDS
COLUMNS = ("received", "sold", "returned", "adjusted", "counted", "to_supplier")
"""The kinds of movement, and their columns in ``journal_kept`` (``reports.MOVEMENT_KINDS``)."""

enabled = True
"""Switched off by tests to check the plain recomputation."""

MAX_MARKS = 16
"""More marks than this: a report keeps none of its own (a mark holds a row per product that moved); the
maintenance (``keep_months``) keeps ``WINDOW`` + 1 of them and drops the rest."""

WINDOW = 12
"""Months the maintenance keeps marks for (their ``WINDOW`` + 1 month starts): any range within the last year."""

SETTLED = dt.timedelta(hours=1)
"""A month start is kept only once it is this far in the past (a late commit is then unlikely, never wrong)."""

Sums = dict[int, Sequence[int]]
"""product id → quantities moved by kind, in ``KINDS`` order."""

_pending: list[tuple[Any, ...]] = []
"""Marks derived by the report being built: (anchor, base boundary or None, base rows, boundary, rows, sums)."""
_drop_all = False


def _rows(sql: str, params: list[Any]) -> list[tuple]:
    from shopkeeper.services.reports import _rows as rows

    return rows(sql, params)


def live(lo: str, hi: str, where: str = "", params: list[Any] | None = None) -> tuple[Sums, int]:
    """The journal rows from ``lo`` to ``hi`` summed by product and kind, and how many there were. ``where``
    narrows them by product ``p``. ``+m.product_id``: grouped without the (product, id) index, so the date range
    is read from its own index."""
    join = " JOIN product p ON p.id = m.product_id" if where else ""
    out: Sums = {}
    count = 0
    for pid, kind, qty, n in _rows(f"SELECT +m.product_id, m.kind, SUM(m.quantity), COUNT(*) FROM movement m{join} "
                                   f"WHERE m.created_at >= ? AND m.created_at < ?{' AND ' + where if where else ''} "
                                   "GROUP BY +m.product_id, m.kind", [lo, hi, *(params or [])]):
        count += n
        out.setdefault(pid, [0] * len(KINDS))[KINDS.index(kind)] += qty or 0  # stock.post refuses any other kind
    return out, count


def _add(into: Sums, other: Sums, sign: int = 1) -> Sums:
    """``into`` plus (or less) ``other``, product by product; a product's figures are replaced, never changed in
    place, so sums read from the cache or kept for it are never altered."""
    for pid, values in other.items():
        acc = into.get(pid)
        into[pid] = [sign * v for v in values] if acc is None else [a + sign * v for a, v in zip(acc, values)]
    return into


def month_starts(lo: str, hi: str) -> list[str]:
    """The UTC month starts from ``lo`` to ``hi`` (stored UTC text) that are settled, as stored UTC text."""
    until = min(hi, (dt.datetime.fromisoformat(utcnow().replace("Z", "+00:00")) - SETTLED)
                .strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    year, month = int(lo[:4]), int(lo[5:7])
    out = []
    while True:
        start = f"{year:04d}-{month:02d}-01T00:00:00.000000Z"
        if start > until:
            return out
        if start >= lo:
            out.append(start)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _kept(anchor: str, boundary: str) -> Sums:
    blob = _rows("SELECT figures FROM journal_mark WHERE anchor = ? AND boundary = ?", [anchor, boundary])[0][0]
    return packed_figures.unpack(blob, len(COLUMNS))


def sums(lo: str, hi: str) -> Sums:
    """What the journal moved from ``lo`` to ``hi`` (stored UTC text), by product and kind: the whole months
    between from two kept marks when they still hold, the rest read live. Call inside the report's read snapshot;
    ``keep`` afterwards writes the marks this read derived."""
    global _drop_all
    bounds = month_starts(lo, hi) if enabled else []
    if len(bounds) < 2:
        return live(lo, hi)[0]
    first, last = bounds[0], bounds[-1]
    marks: dict[str, dict[str, int]] = {}
    for anchor, boundary, rows in _rows("SELECT anchor, boundary, rows_from_anchor FROM journal_mark", []):
        marks.setdefault(anchor, {})[boundary] = rows
    middle: Sums | None = None
    for anchor, kept in marks.items():
        if first in kept and last in kept:
            moved = _rows("SELECT COUNT(*) FROM movement WHERE created_at >= ? AND created_at < ?",
                          [first, last])[0][0]
            if moved == kept[last] - kept[first]:
                middle = _kept(anchor, last)
                if kept[first] or first != anchor:  # an anchor's own mark is all zeros
                    _add(middle, _kept(anchor, first), -1)
            else:  # a movement of a kept month committed late: read live, keep afresh
                _drop_all = True
            break
    if middle is None:
        middle, count = live(first, last)
        if not _drop_all:
            _derive(marks, first, last, middle, count)
    out = dict(middle)  # ``_add`` replaces a product's figures: a derived ``middle`` is kept as it is
    for edge in (live(lo, first)[0] if lo < first else {}, live(last, hi)[0] if last < hi else {}):
        _add(out, edge)
    return out


def _derive(marks: dict[str, dict[str, int]], first: str, last: str, middle: Sums, count: int) -> None:
    """Plan the marks ``first`` and ``last`` from the live read ``middle`` of the rows between them: beyond the
    outermost mark of an anchor that ends where this read starts (or starts where it ends), or as a new anchor."""
    global _drop_all
    held = sum(len(k) for k in marks.values())
    if held < MAX_MARKS:
        for anchor, kept in marks.items():
            if max(kept) == first:
                _pending.append((anchor, first, kept[first], last, kept[first] + count, middle, 1))
                return
            if min(kept) == last:
                _pending.append((anchor, last, kept[last], first, kept[last] - count, middle, -1))
                return
    if held + 2 > MAX_MARKS:  # full: read live, and leave the marks the maintenance keeps as they are
        return
    if first in marks:  # an older anchor of the same name that cannot grow this way
        return
    _pending.append((first, None, 0, first, 0, {}, 1))
    _pending.append((first, first, 0, last, count, middle, 1))


def forget_pending() -> None:
    global _drop_all
    _pending.clear()
    _drop_all = False


def keep() -> None:
    """Write the marks the last report derived (after its read snapshot), each only if the mark it was derived
    from is still its anchor's outermost; or drop every mark when one was found stale. Best effort: nothing but
    speed depends on the marks."""
    if not _pending and not _drop_all:
        return
    pending, drop = list(_pending), _drop_all
    forget_pending()
    db = database.obj
    p = db.param
    with kept_figures_written():
        if not is_sqlite(db):  # one writer of marks at a time: a derivation is checked, then written
            db.execute_sql("LOCK TABLE journal_mark IN EXCLUSIVE MODE")
        if drop:
            db.execute_sql("DELETE FROM journal_mark")
        for anchor, base, base_rows, boundary, rows, moved, sign in pending:
            found = dict(db.execute_sql(f"SELECT boundary, rows_from_anchor FROM journal_mark WHERE anchor = {p}",
                                        (anchor,)).fetchall())
            if base is None:
                if found:
                    break  # another process started this anchor meanwhile
            elif found.get(base) != base_rows or (max(found) if sign > 0 else min(found)) != base:
                break  # the mark it grows from changed or is no longer the outermost one
            totals = {} if base is None else _add(_kept(anchor, base), moved, sign)
            packed = packed_figures.pack({pid: values for pid, values in totals.items() if any(values)})
            if packed is None:
                break  # a total beyond 64 bits: not kept
            db.execute_sql(f"INSERT INTO journal_mark (anchor, boundary, rows_from_anchor, figures) VALUES ({p}, "
                           f"{p}, {p}, {p})", (anchor, boundary, rows, packed))


def month_start_after(moment: str) -> str:
    """The first UTC month start after ``moment`` (stored UTC text)."""
    year, month = int(moment[:4]), int(moment[5:7])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}-01T00:00:00.000000Z"


def keep_months(starts: list[str]) -> int:
    """The maintenance's marks: one anchor with a mark at each of ``starts`` (consecutive settled month starts),
    every other mark dropped. Grown from the marks already kept when they still hold (one index range count), a
    month's live read and a short write transaction at a time, so a new month costs one month's read; otherwise
    built afresh from ``starts[0]``. Returns how many marks were written. Best effort, as ``keep``."""
    if not starts:
        return 0
    marks: dict[str, dict[str, int]] = {}
    for anchor, boundary, rows in _rows("SELECT anchor, boundary, rows_from_anchor FROM journal_mark", []):
        marks.setdefault(anchor, {})[boundary] = rows
    anchor, have = _held_run(marks, starts)
    written = 0
    if have == 0:  # nothing to grow from: a new anchor at the window's start
        anchor = starts[0]
        if not _write_mark(anchor, None, 0, starts[0], 0, {}):
            return written
        written, have = 1, 1
        totals: Sums = {}
    else:
        totals = dict(_kept(anchor, starts[have - 1]))
    rows = marks.get(anchor, {}).get(starts[have - 1], 0)
    for lo, hi in zip(starts[have - 1:], starts[have:]):
        moved, count = live(lo, hi)
        _add(totals, moved)
        if not _write_mark(anchor, lo, rows, hi, rows + count, totals):
            return written
        rows += count
        written += 1
    with kept_figures_written():  # the rest: other anchors, and this one's months before the window
        database.obj.execute_sql(
            f"DELETE FROM journal_mark WHERE anchor <> {database.obj.param} OR boundary < {database.obj.param} OR "
            f"boundary > {database.obj.param}", (anchor, starts[0], starts[-1]))
    return written


def _held_run(marks: dict[str, dict[str, int]], starts: list[str]) -> tuple[str, int]:
    """The anchor whose marks hold at the most of ``starts`` from the first on, and how many: checked against
    the journal by one index range count (a late commit in a kept month: none hold)."""
    best, have = "", 0
    for anchor, kept in marks.items():
        n = 0
        while n < len(starts) and starts[n] in kept:
            n += 1
        if n > have:
            best, have = anchor, n
    if have > 1:
        first, last = starts[0], starts[have - 1]
        moved = _rows("SELECT COUNT(*) FROM movement WHERE created_at >= ? AND created_at < ?", [first, last])[0][0]
        if moved != marks[best][last] - marks[best][first]:
            return "", 0
    return best, have


def _write_mark(anchor: str, base: str | None, base_rows: int, boundary: str, rows: int, totals: Sums) -> bool:
    """Write one mark of ``anchor`` if the mark it grows from (``base``, or none for a new anchor) is still as it
    was read; whatever else this anchor had at ``boundary`` is replaced. False: not written (busy, changed)."""
    packed = packed_figures.pack({pid: values for pid, values in totals.items() if any(values)})
    if packed is None:
        return False
    db = database.obj
    p = db.param
    done = False
    with kept_figures_written():
        if not is_sqlite(db):  # one writer of marks at a time
            db.execute_sql("LOCK TABLE journal_mark IN EXCLUSIVE MODE")
        found = dict(db.execute_sql(f"SELECT boundary, rows_from_anchor FROM journal_mark WHERE anchor = {p}",
                                    (anchor,)).fetchall())
        if base is None:
            db.execute_sql("DELETE FROM journal_mark")
        elif found.get(base) != base_rows:
            return False  # another process dropped or rebuilt the marks meanwhile
        db.execute_sql(f"DELETE FROM journal_mark WHERE anchor = {p} AND boundary = {p}", (anchor, boundary))
        db.execute_sql(f"INSERT INTO journal_mark (anchor, boundary, rows_from_anchor, figures) VALUES ({p}, {p}, "
                       f"{p}, {p})", (anchor, boundary, rows, packed))
        done = True
    return done


def clear() -> None:
    """Forget every kept mark (the next report reads the months again)."""
    with write_transaction():
        database.obj.execute_sql("DELETE FROM journal_mark")
