"""Backups never touch a live database's files, never copy corruption, and restores keep the old database."""

from __future__ import annotations

import contextlib
import fcntl
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from shopkeeper.cli import main


@pytest.fixture
def shop(tmp_path, capsys):
    db = tmp_path / "shop.db"
    config = tmp_path / "config.toml"

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--config", str(config), "--db", str(db), *args])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    config.write_text('[shop]\nname = "Demo Grocery"\n')
    assert run("demo", "--no-tui")[0] == 0  # the demo makes its own shop (it never fills one init made)
    run.db = db
    return run


def _sales(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM sale").fetchone()[0]
    finally:
        con.close()


@contextlib.contextmanager
def _opened_by_another_process(db: Path):
    """Another process (a till) with ``db`` open and idle."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
         "c.execute('SELECT count(*) FROM sqlite_master').fetchall(); print('ready', flush=True); sys.stdin.read()",
         str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        yield
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def _zero_an_index_page(db: Path, index: str = "movement_created_at") -> None:
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (index,)).fetchone()[0]
    con.close()
    with open(db, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(bytes(page_size))


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_backup_refuses_the_live_database_files_and_loses_no_sale(shop, suffix):
    for _ in range(5):
        assert shop("sell", "MILK-1L")[0] == 0
    sales = _sales(shop.db)
    with _opened_by_another_process(shop.db):  # a till keeps the -wal and -shm in place
        code, _, err = shop("backup", f"{shop.db}{suffix}")
        assert code == 2 and "own database file" in err
        code, _, err = shop("backup", "--force", f"{shop.db}{suffix}")
        assert code == 2 and "own database file" in err
    assert _sales(shop.db) == sales
    assert shop("check")[0] == 0


def test_backup_refuses_another_open_database_and_its_files(shop, tmp_path):
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("PRAGMA journal_mode=wal")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    with _opened_by_another_process(other):
        code, _, err = shop("backup", "--force", str(other))
        assert code == 2 and "another process has open" in err
        code, _, err = shop("backup", "--force", f"{other}-wal")
        assert code == 2 and f"belongs to the database {other}" in err
    con.close()


def test_backup_never_replaces_a_file_without_force(shop, tmp_path):
    dest = tmp_path / "copy.db"
    dest.write_text("precious")
    code, _, err = shop("backup", str(dest))
    assert code == 2 and "already exists (use --force" in err
    assert dest.read_text() == "precious"
    code, out, _ = shop("backup", "--force", str(dest))
    assert code == 0 and "replaced the file that was there" in out
    assert _sales(dest) == _sales(shop.db)


def test_a_partial_copy_left_by_a_killed_backup_is_cleaned_up_next_time(shop, tmp_path):
    dest = tmp_path / "copy.db"
    partial = tmp_path / "copy.db.partial"
    partial.write_bytes(b"SQLite format 3\x00" + bytes(5000))  # what a backup killed half way leaves
    code, out, _ = shop("--json", "backup", str(dest))
    assert code == 0 and json.loads(out)["stale_partial"] is True
    assert not partial.exists()
    assert _sales(dest) == _sales(shop.db)


def test_a_backup_being_written_is_not_disturbed(shop, tmp_path):
    dest = tmp_path / "copy.db"
    partial = tmp_path / "copy.db.partial"
    with open(partial, "wb") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # another backup to the same file, still writing
        f.write(b"in progress")
        f.flush()
        code, _, err = shop("backup", str(dest))
        assert code == 2 and "another backup" in err
        assert partial.read_bytes() == b"in progress" and not dest.exists()


def test_check_finds_a_zeroed_index_page_and_backup_refuses_to_copy_it(shop, tmp_path):
    assert shop("check")[0] == 0
    _zero_an_index_page(shop.db)
    code, out, _ = shop("check")
    assert code == 1 and "database file damaged (quick integrity check)" in out
    code, out, _ = shop("--json", "check", "--full")
    report = json.loads(out)
    assert code == 1 and report["integrity"]["check"] == "full" and not report["integrity"]["ok"]
    assert report["integrity"]["problems"]
    dest = tmp_path / "copy.db"
    code, _, err = shop("backup", str(dest))
    assert code == 2 and "backup refused: the database is damaged" in err
    assert not dest.exists() and not (tmp_path / "copy.db.partial").exists()


def test_restore_checks_the_copy_and_moves_the_current_database_aside(shop, tmp_path):
    copy = tmp_path / "copy.db"
    assert shop("backup", str(copy))[0] == 0
    before = _sales(shop.db)
    assert shop("sell", "MILK-1L")[0] == 0
    code, out, _ = shop("restore", str(copy))
    assert code == 0
    assert f"checked {copy}: intact" in out and "moved the current database aside to" in out
    aside = Path(out.split("moved the current database aside to ")[1].split()[0])
    assert _sales(shop.db) == before and _sales(aside) == before + 1  # nothing deleted
    assert shop("check", "--full")[0] == 0
    assert shop("sell", "MILK-1L")[0] == 0  # the restored shop works


def test_restore_refuses_damaged_copies_open_shops_and_the_live_file(shop, tmp_path):
    copy = tmp_path / "copy.db"
    assert shop("backup", str(copy))[0] == 0
    with _opened_by_another_process(shop.db):
        code, _, err = shop("restore", str(copy))
        assert code == 2 and "open in another process" in err
    code, _, err = shop("restore", str(shop.db))
    assert code == 2 and "own database file" in err
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("hello")
    code, _, err = shop("restore", str(not_a_db))
    assert code == 2 and "not a SQLite database" in err
    _zero_an_index_page(copy)
    code, _, err = shop("restore", str(copy))
    assert code == 2 and "is damaged; nothing was changed" in err
    assert sorted(p.name for p in tmp_path.glob("shop.db*")) == ["shop.db", "shop.db-writers"]  # db.WRITERS_LOCK


KILLED_BACKUP = """
import sys, sqlite3
from shopkeeper.db import open_database
from shopkeeper.services import backup

class Copy:  # the online backup, stopped half way: pages written, then wait to be killed
    def __init__(self, connection):
        self.connection = connection
    def backup(self, target):
        self.connection.backup(target, pages=1)
        print("copying", flush=True)
        sys.stdin.read()

open_database(sys.argv[1])
backup.database.obj.connection = lambda: Copy(sqlite3.connect(sys.argv[1]))
backup.backup(sys.argv[2])
"""


def test_a_backup_killed_half_way_is_cleaned_up_by_the_next(shop, tmp_path):
    dest = tmp_path / "copy.db"
    child = subprocess.Popen([sys.executable, "-c", KILLED_BACKUP, str(shop.db), str(dest)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "copying"
        code, _, err = shop("backup", str(dest))  # the first one still holds its partial copy
        assert code == 2 and "another backup" in err
    finally:
        child.kill()  # kill -9, half way
        child.wait(timeout=30)
    assert (tmp_path / "copy.db.partial").exists() and not dest.exists()
    code, out, _ = shop("backup", str(dest))
    assert code == 0 and "partial copy left by an interrupted backup was replaced" in out
    assert not (tmp_path / "copy.db.partial").exists()
    assert _sales(dest) == _sales(shop.db)
