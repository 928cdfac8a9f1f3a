"""Where SQLite and PostgreSQL differ in the SQL the screens and reports run, in one place.

Every function returns a SQL fragment for the database the models are bound to (or ``db``). The rest of the code
writes portable SQL and asks here for the few things the two dialects spell differently:

* case-insensitive order: SQLite's ``COLLATE NOCASE`` (served by the ``product_name`` index), PostgreSQL's
  ``lower(...)`` (served by its expression index ``product_name`` on ``lower(name)``);
* case-insensitive substring search: SQLite's ``LIKE`` (case-insensitive for ASCII), PostgreSQL's ``lower() LIKE``
  (for name and SKU, a ``LIKE`` on the stored ``product.search_text``, served by its ``pg_trgm`` GIN index when
  the extension could be created; see ``db._m011_search_indexes`` and ``db._m013_product_search_text``), and how a filtered window is ordered and combined with a barcode lookup so each
  planner can use its indexes;
* a text prefix: SQLite compares a range on the column's index; PostgreSQL uses ``LIKE 'prefix%'``, which a
  ``text_pattern_ops`` index serves whatever the database's collation (a range ending in U+FFFF is only right
  under the C collation).
"""

from __future__ import annotations

from peewee import Database, SqliteDatabase

from shopkeeper.models import database


def _sqlite(db: Database | None) -> bool:
    return isinstance(db or database.obj, SqliteDatabase)


def escape_like(text: str) -> str:
    """``text`` matched literally by a ``LIKE ... ESCAPE '\\'`` pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def nocase(expr: str, db: Database | None = None) -> str:
    """``expr`` compared and ordered without regard to case."""
    return f"{expr} COLLATE NOCASE" if _sqlite(db) else f"lower({expr})"


def filtered_order(expr: str, db: Database | None = None) -> str:
    """``expr`` for ordering a filtered window.

    SQLite: as a value no index serves, so a filter that matches few rows scans once and keeps the top rows, where
    walking the whole sort index would take long (SQLite cannot tell how many match). PostgreSQL: as it is; its
    planner, with the trigram index's estimates, walks the sort index for a filter matching many rows and
    fetches the few rows through the trigram index otherwise."""
    return f"({expr} || '')" if _sqlite(db) else expr


def in_subquery(expr: str, subquery: str, db: Database | None = None, *, broad: bool = False) -> str:
    """``expr IN (subquery)`` in a form each planner can combine with indexed ``OR`` siblings: PostgreSQL runs
    ``= ANY(ARRAY(subquery))`` once and looks the ids up in the primary key (a bitmap OR with the trigram
    index), where ``IN (subquery)`` would force a scan of the whole table.

    ``broad``: the subquery returns many ids (a short barcode prefix matching thousands of codes). Then looking
    each up costs more than the window (33,000 ids: 40 ms), so PostgreSQL gets ``IN (subquery)`` as well: a hashed
    sub-plan its planner checks while walking the sort index, stopping once the window is full."""
    return f"{expr} IN ({subquery})" if broad or _sqlite(db) else f"{expr} = ANY(ARRAY({subquery}))"


def contains(expr: str, db: Database | None = None) -> str:
    """``expr`` contains the (``contains_arg``) parameter, case-insensitively."""
    p = (db or database.obj).param
    if _sqlite(db):
        return f"{expr} LIKE {p} ESCAPE '\\'"
    # lower() LIKE lower() rather than ILIKE: the same answer, a third faster when a short filter scans the table
    return f"lower({expr}) LIKE lower({p}) ESCAPE '\\'"


def contains_arg(text: str) -> str:
    return f"%{escape_like(text)}%"


def name_or_sku_contains(text: str, db: Database | None = None) -> tuple[str, list[str]]:
    """The condition "product ``p``'s name or SKU contains ``text``, case-insensitively" and its parameters.

    PostgreSQL searches ``p.search_text``, the lower-cased name and SKU stored by the database (``db._m013``):
    one ``LIKE`` on stored text, where ``lower()`` on two columns of every row cost three times as much when no
    index serves the filter. The two are joined by a newline, so text holding one is searched column by column
    (it could match across the join)."""
    like = contains_arg(text)
    if _sqlite(db) or "\n" in text:
        return f"{contains('p.name', db)} OR {contains('p.sku', db)}", [like, like]
    return f"p.search_text LIKE lower({(db or database.obj).param}) ESCAPE '\\'", [like]


def starts_with(expr: str, db: Database | None = None) -> str:
    """``expr`` starts with the text given by the parameters ``starts_with_args`` returns."""
    p = (db or database.obj).param
    if _sqlite(db):
        return f"{expr} >= {p} AND {expr} < {p}"
    return f"{expr} LIKE {p} ESCAPE '\\'"


def starts_with_args(text: str, db: Database | None = None) -> list[str]:
    if _sqlite(db):
        return [text, text + "\uffff"]
    return [escape_like(text) + "%"]


def indexed_by(index: str, db: Database | None = None) -> str:
    """SQLite: `` INDEXED BY index`` after a table name, where its planner (no ``ANALYZE`` statistics) would pick
    another index for a ``GROUP BY`` and scan the whole table — the reorder window read the 10M-row journal through
    the (product, id) index in 70 s instead of its last weeks through ``created_at`` in under a second.
    PostgreSQL: nothing; its planner has statistics and chooses for itself."""
    return f" INDEXED BY {index}" if _sqlite(db) else ""
