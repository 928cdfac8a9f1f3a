"""Kept stock and moving average cost of every product at closed UTC month starts, so ``valuation --at`` replays
the journal from the month start before its date instead of walking back through every product's history.

A mark (``stock_mark``) is a month start, and where the journal stood in the read snapshot its figures were replayed
in: the position of its hash chain (``services/chain.py``) and its last movement id. Its rows (``stock_kept``) are
each product's stock, average cost and last movement id before the month start, exactly what ``reports.stock_at``
gives there. The journal is append-only, but a movement stamped before a month start can commit late. Every
movement committed after the mark was replayed either has a larger id (always so on SQLite, whose one writer at a
time takes ids in commit order) or a link past the mark's position (chain positions are handed out in commit order;
PostgreSQL's tills take ids out of it): a mark is used only while none of those is stamped before its month start,
two reads of the rows committed since, which are few (a mark that held is moved on to where it was checked). When
one is, the mark is dropped and kept afresh by the next report. A figure therefore always equals a full
recomputation; the tables are a cache and may be emptied at any time (``clear``). At most ``MAX_MARKS`` marks are
kept (a row per product each).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from shopkeeper.db import is_sqlite, kept_figures_written, utcnow, write_transaction
from shopkeeper.models import database
from shopkeeper.services import chain

enabled = True
"""Switched off by tests to check the plain recomputation."""

MAX_MARKS = 3
"""Marks kept at once; a new one takes the place of the oldest."""

SETTLED = dt.timedelta(hours=1)
"""A month start is kept only once it is this far in the past (a late commit is then unlikely, never wrong)."""

State = dict[int, tuple[int, int, int]]
"""product id → (on hand, moving average cost, id of its last movement) just before a month start."""

_pending: list[tuple[Any, ...]] = []
"""What the report being built found: ("keep", boundary, where, state), ("advance", boundary, where, where now)
or ("drop", boundary); where: (chain position, last movement id)."""


def _rows(sql: str, params: list[Any]) -> list[tuple]:
    from shopkeeper.services.reports import _rows as rows

    return rows(sql, params)


def boundary_for(moment: str) -> str | None:
    """The settled UTC month start at or before ``moment`` (stored UTC text), as stored UTC text; None if
    ``moment`` is not a time stamp, or marks are switched off."""
    if not enabled:
        return None
    now = dt.datetime.fromisoformat(utcnow().replace("Z", "+00:00")) - SETTLED
    until = min(moment, now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    try:
        year, month = int(until[:4]), int(until[5:7])
    except ValueError:
        return None
    return f"{year:04d}-{month:02d}-01T00:00:00.000000Z"


def _where() -> tuple[int, int]:
    """(chain position, last movement id) of the journal in this snapshot."""
    found = _rows("SELECT (SELECT MAX(position) FROM chain_link WHERE stream = ?), (SELECT MAX(id) FROM movement)",
                  [chain.STREAMS["movement"]])
    return found[0][0] or 0, found[0][1] or 0


def holds(boundary: str) -> bool:
    """Whether a state is kept at ``boundary`` and still holds: no movement stamped before it committed since it
    was replayed. A stale one is dropped by ``keep``. Call inside the report's read snapshot."""
    found = _rows("SELECT position, last_id FROM stock_mark WHERE boundary = ?", [boundary])
    if not found:
        return False
    position, last_id = found[0]
    # ``created_at || ''``: the new rows read by id, not the months before ``boundary`` by date
    late = _rows("SELECT EXISTS (SELECT 1 FROM movement WHERE id > ? AND created_at || '' < ?) OR EXISTS ("
                 "SELECT 1 FROM chain_link l JOIN movement m ON m.id = l.row_id WHERE l.stream = ? AND "
                 "l.position > ? AND m.created_at < ?)",
                 [last_id, boundary, chain.STREAMS["movement"], position, boundary])[0][0]
    if late:
        _pending.append(("drop", boundary))
        return False
    now = _where()
    if now != (position, last_id):  # checked up to here: the next report looks at what came after only
        _pending.append(("advance", boundary, (position, last_id), now))
    return True


def load(boundary: str, product_ids: Iterable[int] | None = None) -> State:
    """The kept state at ``boundary`` (``holds`` said it holds), of every product or of these."""
    sql = "SELECT product_id, on_hand, avg_cost, last_id FROM stock_kept WHERE boundary = ?"
    if product_ids is None:
        return {pid: (qty, cost, last) for pid, qty, cost, last in _rows(sql, [boundary])}
    ids = sorted(set(product_ids))
    state: State = {}
    for n in range(0, len(ids), 500):
        chunk = ids[n:n + 500]
        for pid, qty, cost, last in _rows(f"{sql} AND product_id IN ({', '.join('?' * len(chunk))})",
                                          [boundary, *chunk]):
            state[pid] = (qty, cost, last)
    return state


MAX_REPLAY = dt.timedelta(days=62)
"""``derive`` replays on from an earlier mark at most this far back (a month or two of movements read once is
quicker than walking every product's history; many months are not)."""


def derive(boundary: str) -> State | None:
    """The state at ``boundary`` replayed on from the latest earlier mark that holds, if one is at most
    ``MAX_REPLAY`` earlier; else None (the caller walks the products, ``reports._walk``). Call inside the report's
    read snapshot."""
    oldest = (dt.datetime.fromisoformat(boundary.replace("Z", "+00:00")) - MAX_REPLAY).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")
    for (base,) in _rows("SELECT boundary FROM stock_mark WHERE boundary < ? AND boundary >= ? ORDER BY boundary "
                         "DESC", [boundary, oldest]):
        if holds(base):
            return replay_on(load(base), base, boundary)
    return None


def replay_on(base: State, base_boundary: str, boundary: str) -> State:
    """``base`` (the state at ``base_boundary``) with the movements from there to ``boundary`` replayed on, as
    ``reports._since`` does: a product whose movements since do not all come after its last one before (ids
    committed out of order) is walked on its own."""
    from shopkeeper.services.reports import _replay, _walk

    # read by date, sorted here (by product, then id): ``ORDER BY`` would walk the (product, id) index instead
    moved = _rows("SELECT product_id, id, kind, quantity, unit_cost FROM movement WHERE created_at >= ? AND "
                  "created_at < ?", [base_boundary, boundary])
    moved.sort()
    tails: dict[int, list[tuple[str, int, int | None]]] = {}
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for pid, mid, kind, qty, cost in moved:
        tail = tails.get(pid)
        if tail is None:
            tail = tails[pid] = []
            first[pid] = mid
        tail.append((kind, qty, cost))
        last[pid] = mid
    out_of_order = {pid for pid, mid in first.items() if pid in base and mid < base[pid][2]}
    state = dict(base)
    for pid, tail in tails.items():
        if pid not in out_of_order:
            qty, avg, _ = base.get(pid, (0, None, 0))
            state[pid] = (*_replay(qty, avg, tail), last[pid])
    if out_of_order:
        state.update(_walk(boundary, out_of_order))
    return state


def keep_months(boundaries: list[str]) -> int:
    """The maintenance's marks: the state at each of ``boundaries`` (settled month starts, oldest first, at most
    ``MAX_MARKS``), each in a read snapshot of its own and written after it: a mark that holds is left as it is,
    a missing one is replayed on from the one before (``derive``) or, with none near, walked. Returns how many
    marks were written. Best effort, as ``keep``."""
    from shopkeeper.services.reports import _snapshot, _walk

    written = 0
    for boundary in boundaries[-MAX_MARKS:]:
        forget_pending()
        with _snapshot():
            if not holds(boundary):
                state = derive(boundary)
                plan(boundary, _walk(boundary) if state is None else state)
                written += 1
        keep()
    return written


def plan(boundary: str, state: State) -> None:
    """Keep ``state``, replayed at ``boundary`` in this read snapshot, once the report is built (``keep``)."""
    _pending.append(("keep", boundary, _where(), state))


def forget_pending() -> None:
    _pending.clear()


def keep() -> None:
    """Write what the last report planned (after its read snapshot): new marks, stale ones dropped, checked ones
    moved on. Best effort: nothing but speed depends on the marks."""
    if not _pending:
        return
    pending = list(_pending)
    forget_pending()
    db = database.obj
    p = db.param
    with kept_figures_written():
        if not is_sqlite(db):  # one writer of marks at a time
            db.execute_sql("LOCK TABLE stock_mark IN EXCLUSIVE MODE")
        for what, boundary, *rest in pending:
            if what == "drop":
                _drop(db, [boundary])
            elif what == "advance":
                (position, last_id), (now, now_id) = rest
                db.execute_sql(f"UPDATE stock_mark SET position = {p}, last_id = {p} WHERE boundary = {p} AND "
                               f"position = {p} AND last_id = {p}", (now, now_id, boundary, position, last_id))
            else:
                (position, last_id), state = rest
                if db.execute_sql(f"SELECT 1 FROM stock_mark WHERE boundary = {p}", (boundary,)).fetchone():
                    continue  # another process kept it meanwhile
                older = [b for (b,) in db.execute_sql("SELECT boundary FROM stock_mark ORDER BY boundary DESC")]
                _drop(db, older[MAX_MARKS - 1:])
                db.execute_sql(f"INSERT INTO stock_mark (boundary, position, last_id) VALUES ({p}, {p}, {p})",
                               (boundary, position, last_id))
                rows = [(boundary, pid, *values) for pid, values in state.items()]
                one = f"({p}, {p}, {p}, {p}, {p})"
                for n in range(0, len(rows), 200):  # many rows a statement: one round trip each on PostgreSQL
                    chunk = rows[n:n + 200]
                    db.execute_sql("INSERT INTO stock_kept (boundary, product_id, on_hand, avg_cost, last_id) "
                                   f"VALUES {', '.join([one] * len(chunk))}", [v for row in chunk for v in row])


def _drop(db, boundaries: list[str]) -> None:
    for boundary in boundaries:
        db.execute_sql(f"DELETE FROM stock_kept WHERE boundary = {db.param}", (boundary,))
        db.execute_sql(f"DELETE FROM stock_mark WHERE boundary = {db.param}", (boundary,))


def clear() -> None:
    """Forget every kept mark (the next report replays the journal again)."""
    with write_transaction():
        database.obj.execute_sql("DELETE FROM stock_kept")
        database.obj.execute_sql("DELETE FROM stock_mark")
