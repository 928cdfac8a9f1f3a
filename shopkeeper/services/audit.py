"""Checks: the database file's own integrity (SQLite's integrity check), and stock against the journal."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from shopkeeper.db import is_sqlite
from shopkeeper.models import database

MAX_PROBLEMS = 20
"""Integrity problems listed at most: a badly damaged file can have thousands, and the first say enough."""


def integrity_problems(connection: sqlite3.Connection, *, full: bool = False) -> list[str]:
    """What SQLite's own check finds wrong with the database file behind ``connection``; empty when sound.

    ``quick_check`` (the default) reads every page and checks its structure; ``full`` runs ``integrity_check``,
    which also checks that every index agrees with its table, and ``foreign_key_check``. Either can take a while on
    a large shop: it reads the whole file, as a backup does. A file too damaged to check is a problem too.
    """
    pragma = f"integrity_check({MAX_PROBLEMS})" if full else f"quick_check({MAX_PROBLEMS})"
    try:
        problems = [row[0] for row in connection.execute(f"PRAGMA {pragma}")]
        if problems == ["ok"]:
            problems = []
        if full and not problems:
            problems = [f"{table} row {rowid}: refers to a missing {parent} row"
                        for table, rowid, parent, _ in connection.execute("PRAGMA foreign_key_check")]
    except sqlite3.DatabaseError as exc:
        problems = [f"{exc} ({getattr(exc, 'sqlite_errorname', 'error')})"]
    return [line for problem in problems[:MAX_PROBLEMS] for line in problem.splitlines()
            if line and line != "*** in database main ***"]


def check_integrity(*, full: bool = False) -> list[str] | None:
    """``integrity_problems`` of the open shop database; ``None`` on PostgreSQL, which checks its own pages."""
    if not is_sqlite():
        return None
    return integrity_problems(database.connection(), full=full)


@dataclass(frozen=True)
class Mismatch:
    product_id: int
    sku: str
    cached: int
    journal: int


def check_stock() -> tuple[int, list[Mismatch]]:
    """Every product whose cached ``on_hand`` differs from the sum of its movements.

    Runs as one read, so it sees one consistent snapshot even while others write.
    """
    with database.atomic() if not is_sqlite() else _read_snapshot():
        rows = database.execute_sql(
            "SELECT p.id, p.sku, p.on_hand, COALESCE(m.total, 0) FROM product p "
            "LEFT JOIN (SELECT product_id, SUM(quantity) AS total FROM movement GROUP BY product_id) m "
            "ON m.product_id = p.id ORDER BY p.sku"
        ).fetchall()
    mismatches = [Mismatch(pid, sku, cached, total) for pid, sku, cached, total in rows if cached != total]
    return len(rows), mismatches


class _read_snapshot:
    """A deferred read transaction on SQLite (no write lock), so the query sees one snapshot in WAL mode."""

    def __enter__(self):
        database.execute_sql("BEGIN DEFERRED")

    def __exit__(self, *exc):
        database.execute_sql("COMMIT")
