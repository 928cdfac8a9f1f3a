"""A full disk or a read-only database: a clear message, nothing half-saved, reading still works."""

from __future__ import annotations

import pytest

from shopkeeper.db import StorageError, describe_error
from shopkeeper.models import Movement, Product, Sale, SaleLine, database
from shopkeeper.services import sales, stock
from shopkeeper.services.sales import LineInput


def _fill_the_disk() -> None:
    """Make the database "full": SQLite refuses to grow it past its present size (SQLITE_FULL), as on a full disk."""
    database.execute_sql("VACUUM")  # no free pages left inside the file either
    assert database.execute_sql("PRAGMA freelist_count").fetchone() == (0,)
    pages = database.execute_sql("PRAGMA page_count").fetchone()[0]
    database.execute_sql(f"PRAGMA max_page_count = {pages}")


def _counts() -> tuple[int, int, int, list[int]]:
    return (Sale.select().count(), SaleLine.select().count(), Movement.select().count(),
            [p.on_hand for p in Product.select().order_by(Product.id)])


def test_a_sale_on_a_full_disk_says_so_and_saves_nothing(ctx, demo_db):
    before = _counts()
    _fill_the_disk()
    big = [LineInput(None, 1000, unit_price=100, description=f"gift {n} " + "x" * 3000) for n in range(5)]
    with pytest.raises(StorageError, match="the disk is full; nothing was saved") as exc:
        sales.sell(ctx, [LineInput("MILK-1L", 2000), *big], payment="card")
    assert exc.value.reason == "disk full"
    assert _counts() == before
    assert not database.obj.sqlite_transaction_open()
    database.execute_sql("PRAGMA max_page_count = 1073741823")  # room again: the till carries on
    sales.sell(ctx, [LineInput("MILK-1L", 2000)], payment="card")
    assert _counts()[0] == before[0] + 1


def test_a_stock_movement_on_a_full_disk_says_so(ctx, demo_db):
    before = _counts()
    _fill_the_disk()
    with pytest.raises(StorageError, match="the disk is full"):
        for _ in range(200):  # until the journal needs a new page
            stock.adjust(ctx, "MILK-1L", 1000, "found", note="y" * 500)
    database.execute_sql("PRAGMA max_page_count = 1073741823")
    assert Movement.select().count() >= before[2]
    from shopkeeper.services.audit import check_stock

    assert check_stock()[1] == []


def test_a_disk_io_error_on_a_completely_full_disk_is_called_a_full_disk(monkeypatch, tmp_path):
    import os
    import sqlite3

    io_error = sqlite3.OperationalError("disk I/O error")
    io_error.sqlite_errorcode = 10 | (3 << 8)  # SQLITE_IOERR_WRITE
    room = os.statvfs_result((4096, 4096, 1000, 0, 0, 100, 0, 0, 0, 255))
    monkeypatch.setattr(os, "statvfs", lambda path: room)
    assert describe_error(io_error, tmp_path / "shop.db") == "the disk is full"
    plenty = os.statvfs_result((4096, 4096, 1000, 900, 900, 100, 50, 50, 0, 255))
    monkeypatch.setattr(os, "statvfs", lambda path: plenty)
    assert describe_error(io_error, tmp_path / "shop.db") is None
