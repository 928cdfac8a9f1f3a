"""Checks and copies: recompute stock from the journal, and back the database up while others write."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from shopkeeper.db import is_sqlite
from shopkeeper.errors import ShopError
from shopkeeper.models import database


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


def backup(dest: str | Path) -> Path:
    """Copy the live database to ``dest`` with SQLite's online backup API: consistent while others write."""
    if not is_sqlite():
        raise ShopError("backup: use pg_dump for a PostgreSQL shop")
    dest = Path(dest).expanduser()
    if dest.is_dir():
        raise ShopError(f"backup: {dest} is a folder; name the file to write")
    if not dest.parent.exists():
        raise ShopError(f"backup: folder {dest.parent} does not exist")
    source = database.connection()
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    try:
        target = sqlite3.connect(tmp)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
        tmp.replace(dest)
    except (OSError, sqlite3.Error) as exc:
        tmp.unlink(missing_ok=True)
        raise ShopError(f"backup to {dest} failed: {exc}") from None
    return dest
