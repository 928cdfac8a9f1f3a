"""A job that writes in batches (an import) lets the tills in between batches only when one is waiting: write
transactions announce themselves on a lock file beside the database (``db.let_writers_in``)."""

from __future__ import annotations

import threading
from pathlib import Path

from shopkeeper import db as shop_db
from shopkeeper.db import deferred_sync, let_writers_in, write_transaction
from shopkeeper.models import database
from shopkeeper.services import products_csv


def test_a_batch_job_goes_on_at_once_when_no_till_waits(db, monkeypatch):
    paused = []
    monkeypatch.setattr(shop_db.time, "sleep", paused.append)
    with write_transaction():  # this thread's own transaction, ended: it does not count as waiting
        pass
    assert let_writers_in() is False  # no one was waiting
    assert paused == []


def test_a_batch_job_inside_a_transaction_of_its_own_does_not_wait_for_itself(db):
    with write_transaction():  # this thread holds the lock file shared: an exclusive try would wait for itself
        assert let_writers_in() is None  # the caller pauses instead


def test_a_batch_job_waits_until_a_till_that_queued_has_committed(db, db_path, monkeypatch):
    """A write transaction of another thread (as of another process: the lock is per open file) holds the lock
    file from before it waits for the write lock until it ends; ``let_writers_in`` returns only after it ended."""
    entered, release, events = threading.Event(), threading.Event(), []

    def till() -> None:
        with database.obj.connection_context():
            with write_transaction():
                entered.set()
                release.wait(10)
                database.obj.execute_sql("CREATE TABLE sold (id INTEGER)")
            events.append("till committed")

    def poll(seconds: float) -> None:  # the job sees someone waiting: the till may finish now
        events.append("job waits")
        release.set()
        thread.join(10)

    thread = threading.Thread(target=till)
    thread.start()
    assert entered.wait(10)
    monkeypatch.setattr(shop_db.time, "sleep", poll)
    assert let_writers_in() is True  # someone was waiting
    events.append("job goes on")
    thread.join(10)
    assert events == ["job waits", "till committed", "job goes on"]
    assert Path(f"{db_path}{shop_db.WRITERS_LOCK}").exists()


def test_a_till_never_hangs_on_the_lock_file_of_a_job_stopped_while_it_checked(db, db_path, monkeypatch):
    """A job suspended in the instant it holds the lock file exclusively: a write transaction tries a while, then
    goes on unannounced (SQLite's own write lock still orders it)."""
    import fcntl

    tries = []
    monkeypatch.setattr(shop_db.time, "sleep", tries.append)
    with open(f"{db_path}{shop_db.WRITERS_LOCK}", "a+b") as job:
        fcntl.flock(job, fcntl.LOCK_EX)
        with write_transaction():
            database.obj.execute_sql("CREATE TABLE sold (id INTEGER)")
    assert len(tries) == shop_db.ANNOUNCE_TRIES
    assert database.obj.execute_sql("SELECT count(*) FROM sold").fetchone()[0] == 0


def test_an_import_pauses_only_for_a_waiting_till_and_ends_with_full_sync(db, ctx, monkeypatch):
    paused, let_in = [], []
    monkeypatch.setattr(products_csv.time, "sleep", paused.append)
    real = products_csv.let_writers_in

    def counted() -> bool:
        let_in.append(database.obj.execute_sql("PRAGMA synchronous").fetchone()[0])
        return real()

    monkeypatch.setattr(products_csv, "let_writers_in", counted)
    data = "sku,name,price\n" + "".join(f"S{i},Item {i},1.00\n" for i in range(30))
    report = products_csv.import_products(ctx, data.encode(), batch_rows=10)
    assert report.created == 30
    assert paused == []  # no fixed pause: the lock file shows no one waits
    assert let_in == [1, 1, 1]  # between batches, which were committed with synchronous=NORMAL
    assert database.obj.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL again, for the next sale


def test_an_import_pauses_now_and_then_for_writers_that_cannot_announce_themselves(db, ctx, monkeypatch):
    """An older shopkeeper at another till, the sqlite3 shell: no announcement, so every ``UNANNOUNCED_EVERY``
    seconds the import pauses as long as SQLite's busy handler needs to get in."""
    paused = []
    monkeypatch.setattr(products_csv.time, "sleep", paused.append)
    monkeypatch.setattr(products_csv, "UNANNOUNCED_EVERY", 0.0)
    data = "sku,name,price\n" + "".join(f"S{i},Item {i},1.00\n" for i in range(30))
    products_csv.import_products(ctx, data.encode(), batch_rows=10)
    assert len(paused) == 3 and all(0 <= pause <= products_csv.BATCH_PAUSE for pause in paused)


def test_deferred_sync_restores_full_sync_when_the_job_fails(db):
    try:
        with deferred_sync():
            assert database.obj.execute_sql("PRAGMA synchronous").fetchone()[0] == 1
            raise RuntimeError("stopped")
    except RuntimeError:
        pass
    assert database.obj.execute_sql("PRAGMA synchronous").fetchone()[0] == 2


def test_an_import_into_memory_pauses_as_before(monkeypatch, ctx):
    """No lock file (``:memory:``; also a folder we may not write): the fixed pause between batches stays."""
    from shopkeeper.db import close_database, open_database

    open_database(":memory:")
    try:
        paused = []
        monkeypatch.setattr(products_csv.time, "sleep", paused.append)
        data = "sku,name,price\n" + "".join(f"S{i},Item {i},1.00\n" for i in range(20))
        products_csv.import_products(ctx, data.encode(), batch_rows=10)
        assert len(paused) == 2
    finally:
        close_database()
