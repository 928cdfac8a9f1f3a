"""Today's stock value per (category, supplier), kept by the database itself (``valuation`` now reads it).

``stock_value`` holds signed rows (category, supplier id, products, products with stock, on hand, at cost, at
retail) whose sums per (category, supplier id) always equal the full ``GROUP BY`` over ``product``: triggers on
``product`` append a row for every insert, delete and change of on hand, average cost, price, category or supplier,
in the writer's own transaction, so no code path (sale, receipt, count, import, catalog edit, training copy,
restore, SQL typed by hand) can leave the figures stale. Each product's value is rounded as ``money.extend`` does
(the reports' ``_extend_sql``).

The triggers only ever INSERT: two tills changing products of one group never wait on one shared row (an UPDATE
of a group row from a trigger would deadlock on PostgreSQL when two sales lock two group rows in opposite orders).
A read sums the rows per group. A fold replaces the rows it sees by their sums per group in one transaction (on
PostgreSQL a ``DELETE … RETURNING`` of the rows its statement's snapshot sees, so rows other tills commit meanwhile
stay as they are, to be folded next time): after a report that summed more than ``FOLD_AFTER`` rows beyond one per
group, and in every ``FOLD_EVERY``th write transaction of a process, so the rows stay few without reports too.
docs/reports.md says what it costs a till.
"""

from __future__ import annotations

from typing import Any

from peewee import Database, DatabaseError

from shopkeeper.db import before_commit, is_sqlite, kept_figures_written
from shopkeeper.models import database

TABLE = "stock_value"
FIGURES = ("products", "stocked", "on_hand", "cost", "retail")
"""Per group: products (with stock or not: the group exists while it has one), products with stock, on hand
(thousandths), value at average cost and at retail (minor units)."""
WATCHED = ("on_hand", "avg_cost", "price", "category", "supplier_id")
"""The product columns the figures depend on: an UPDATE that changes none of them appends nothing."""
FOLD_AFTER = 2000
"""Rows beyond one per group that a read tolerates before it folds them (a read sums ~1 µs a row)."""


def _contribution(row: str, sqlite: bool) -> list[str]:
    """SQL for one product's figures, ``row`` being ``NEW`` or ``OLD`` (or a table alias)."""
    from shopkeeper.services.reports import _extend_sql  # the one rounding rule of a product's value

    extend = _extend_sql if sqlite else _extend_numeric
    return ["1", f"CASE WHEN {row}.on_hand <> 0 THEN 1 ELSE 0 END", f"{row}.on_hand",
            extend(f"{row}.on_hand", f"{row}.avg_cost"), extend(f"{row}.on_hand", f"{row}.price")]


def _extend_numeric(quantity: str, amount: str) -> str:
    """PostgreSQL: ``money.extend`` (``_extend_sql``'s rounding, half to even) in NUMERIC. Stock and a price within
    ``bounds`` make a value past BIGINT (10^12 thousandths at 10^13 minor units), and a trigger that overflowed
    would refuse the sale itself; SQLite turns such a product into a REAL instead, as its ``GROUP BY`` did."""
    x = f"({quantity}::numeric * {amount})"
    return f"(SIGN({x}) * (div(ABS({x}) + 500, 1000) - CASE WHEN mod(ABS({x}), 2000) = 500 THEN 1 ELSE 0 END))"


def _insert(row: str, figures: list[str]) -> str:
    return (f"INSERT INTO {TABLE} (category, supplier_id, {', '.join(FIGURES)}) "
            f"VALUES ({row}.category, {row}.supplier_id, {', '.join(figures)})")


def _inserts(sqlite: bool) -> dict[str, str]:
    """The statements a trigger runs: a product in, out, changed within its group (one row of differences), moved
    to another group (out of the old, into the new)."""
    new, old = _contribution("NEW", sqlite), _contribution("OLD", sqlite)
    return {"insert": _insert("NEW", new), "delete": _insert("OLD", [f"-({f})" for f in old]),
            "change": _insert("NEW", [f"({n}) - ({o})" for n, o in zip(new, old, strict=True)]),
            "move_out": _insert("OLD", [f"-({f})" for f in old]), "move_in": _insert("NEW", new)}


def _same_group(sqlite: bool) -> str:
    same = "IS" if sqlite else "IS NOT DISTINCT FROM"
    return f"OLD.category {same} NEW.category AND OLD.supplier_id {same} NEW.supplier_id"


def _changed(sqlite: bool) -> str:
    differs = "IS NOT" if sqlite else "IS DISTINCT FROM"
    return " OR ".join(f"OLD.{c} {differs} NEW.{c}" for c in WATCHED)


def install(db: Database) -> None:
    """Create the table and ``product``'s triggers (dropping older ones of the same names), and fill the table
    from the full ``GROUP BY`` (a migration's step: inside its transaction, so no change is missed between)."""
    sqlite = is_sqlite(db)

    def run(sql: str) -> None:  # no parameters: a literal % (the rounding's modulo) is doubled for psycopg
        db.execute_sql(sql if sqlite else sql.replace("%", "%%"))

    money = "BIGINT" if sqlite else "NUMERIC"  # NUMERIC: see ``_extend_numeric``
    run(f"CREATE TABLE IF NOT EXISTS {TABLE} (category TEXT, supplier_id BIGINT, products BIGINT NOT NULL, "
        f"stocked BIGINT NOT NULL, on_hand BIGINT NOT NULL, cost {money} NOT NULL, retail {money} NOT NULL)")
    sql = _inserts(sqlite)
    columns = ", ".join(WATCHED)
    if sqlite:
        for name in ("insert", "delete", "change", "move"):
            run(f"DROP TRIGGER IF EXISTS product_stock_value_{name}")
        run(f"CREATE TRIGGER product_stock_value_insert AFTER INSERT ON product BEGIN {sql['insert']}; END")
        run(f"CREATE TRIGGER product_stock_value_delete AFTER DELETE ON product BEGIN {sql['delete']}; END")
        run(f"CREATE TRIGGER product_stock_value_change AFTER UPDATE OF {columns} ON product "
            f"WHEN ({_same_group(True)}) AND ({_changed(True)}) BEGIN {sql['change']}; END")
        run(f"CREATE TRIGGER product_stock_value_move AFTER UPDATE OF {columns} ON product "
            f"WHEN NOT ({_same_group(True)}) BEGIN {sql['move_out']}; {sql['move_in']}; END")
    else:
        run("CREATE OR REPLACE FUNCTION shopkeeper_stock_value() RETURNS trigger AS $$ BEGIN "
            f"IF TG_OP = 'INSERT' THEN {sql['insert']}; "
            f"ELSIF TG_OP = 'DELETE' THEN {sql['delete']}; "
            f"ELSIF {_same_group(False)} THEN {sql['change']}; "
            f"ELSE {sql['move_out']}; {sql['move_in']}; END IF; "
            "RETURN NULL; END $$ LANGUAGE plpgsql")
        for name in ("row", "update"):
            run(f"DROP TRIGGER IF EXISTS product_stock_value_{name} ON product")
        run("CREATE TRIGGER product_stock_value_row AFTER INSERT OR DELETE ON product "
            "FOR EACH ROW EXECUTE FUNCTION shopkeeper_stock_value()")
        run(f"CREATE TRIGGER product_stock_value_update AFTER UPDATE OF {columns} ON product "
            f"FOR EACH ROW WHEN ({_changed(False)}) EXECUTE FUNCTION shopkeeper_stock_value()")
    run(f"DELETE FROM {TABLE}")
    sums = ", ".join(f"SUM({f})" if f != "1" else "COUNT(*)" for f in _contribution("p", sqlite))
    run(f"INSERT INTO {TABLE} (category, supplier_id, {', '.join(FIGURES)}) "
        f"SELECT p.category, p.supplier_id, {sums} FROM product p GROUP BY p.category, p.supplier_id")


def groups(where: str = "", params: list[Any] | None = None) -> tuple[list[tuple], int]:
    """(category, supplier id, products with stock, on hand, at cost, at retail) of every group that has a product
    (``where``: conditions on ``p.category`` and ``p.supplier_id``), in the caller's read snapshot, and how many
    rows beyond one per group were summed (``fold`` when past ``FOLD_AFTER``)."""
    from shopkeeper.services.reports import _rows

    rows = _rows(f"SELECT p.category, p.supplier_id, SUM(p.stocked), SUM(p.on_hand), SUM(p.cost), SUM(p.retail), "
                 f"COUNT(*) FROM {TABLE} p{' WHERE ' + where if where else ''} GROUP BY p.category, p.supplier_id "
                 "HAVING SUM(p.products) <> 0", params or [])
    extra = sum(row[-1] for row in rows) - len(rows)
    if extra > FOLD_AFTER:
        _pending[:] = [True]
    return [row[:-1] for row in rows], extra


_pending: list[bool] = []
"""[True] when the report being built summed more rows than it should have: ``keep`` folds them."""


def forget_pending() -> None:
    _pending.clear()


def keep() -> None:
    """Fold the rows if the last report found too many (after its read snapshot: folding writes)."""
    if _pending:
        forget_pending()
        fold()


def fold() -> None:
    """Replace the rows of ``stock_value`` by their sums per group (groups left without a product are dropped), in
    a write transaction of its own; best effort (a busy or read-only database leaves them for next time)."""
    with kept_figures_written():
        _fold(database.obj)


ADVISORY_KEY = 0x73746F636B76616C  # "stockval": one folder at a time on PostgreSQL


def _fold(db: Database) -> None:
    """The fold itself, inside the caller's write transaction."""
    sums = ", ".join(f"SUM({f})" for f in FIGURES)
    insert = f"INSERT INTO {TABLE} (category, supplier_id, {', '.join(FIGURES)}) "
    grouped = "GROUP BY category, supplier_id HAVING SUM(products) <> 0"
    if is_sqlite(db):  # the write lock is held: nothing commits meanwhile; new rows get larger rowids
        last = db.execute_sql(f"SELECT MAX(rowid) FROM {TABLE}").fetchone()[0]
        if last is None:
            return
        db.execute_sql(f"{insert}SELECT category, supplier_id, {sums} FROM {TABLE} WHERE rowid <= ? {grouped}",
                       (last,))
        db.execute_sql(f"DELETE FROM {TABLE} WHERE rowid <= ?", (last,))
        return
    # READ COMMITTED: the DELETE takes the rows its statement's snapshot sees; rows committed meanwhile stay
    db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_KEY,))
    db.execute_sql(f"WITH gone AS (DELETE FROM {TABLE} RETURNING *) {insert}SELECT category, supplier_id, {sums} "
                   f"FROM gone {grouped}")


FOLD_EVERY = 1000
"""Every this many write transactions of a process, the last one also folds the rows (``db.before_commit``), so
they stay few in a shop that sells all day and never asks for a valuation: a few milliseconds once in a thousand
commits."""
_commits = [0]


def _fold_now_and_then() -> None:
    """``db.before_commit``'s hook: fold inside the committing transaction every ``FOLD_EVERY`` commits. SQLite
    holds the write lock already. PostgreSQL folds only when no other transaction is folding (a try-lock: a till
    never waits for it) and at READ COMMITTED (where a row another fold took away is skipped, not an error). In a
    savepoint, best effort: a failure leaves the rows for next time and never costs the sale."""
    _commits[0] += 1
    if _commits[0] < FOLD_EVERY:
        return
    _commits[0] = 0
    db = database.obj
    try:
        with db.atomic():
            if not is_sqlite(db) and not db.execute_sql(
                    "SELECT current_setting('transaction_isolation') = 'read committed' AND "
                    "pg_try_advisory_xact_lock(%s)", (ADVISORY_KEY,)).fetchone()[0]:
                return
            _fold(db)
    except DatabaseError:
        return


before_commit(_fold_now_and_then)
