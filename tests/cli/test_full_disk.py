"""A full disk on the command line: one line saying so and that nothing was saved, exit 2, never a traceback."""

from __future__ import annotations

import sqlite3

from shopkeeper import db as shop_db
from shopkeeper.cli import main


def test_a_write_on_a_full_disk_says_the_disk_is_full(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "shop.db")
    assert main(["--db", db, "demo", "--no-tui"]) == 0
    con = sqlite3.connect(db)
    con.execute("VACUUM")
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    con.close()
    # The database may not grow past its present size: SQLITE_FULL, "database or disk is full", as on a full disk.
    monkeypatch.setitem(shop_db.SQLITE_PRAGMAS, "max_page_count", pages)
    capsys.readouterr()
    received = 0
    for _ in range(100):
        code = main(["--db", db, "receive", "MILK-1L", "1", "--ref", "delivery " + "x" * 3000])
        if code != 0:
            break
        received += 1
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines()[-1] == "shopkeeper: the disk is full; nothing was saved"
    assert "Traceback" not in err and "cannot rollback" not in err
    con = sqlite3.connect(db)
    refs = con.execute("SELECT count(*) FROM movement WHERE reference LIKE 'delivery x%'").fetchone()[0]
    assert refs == received  # the refused receipt left nothing behind
    monkeypatch.delitem(shop_db.SQLITE_PRAGMAS, "max_page_count")
    assert main(["--db", db, "check"]) == 0
