"""A shop's SQLite database as a file: is it a shop at all, is another process using it, and moving it aside.

Nothing here deletes a database. ``init --force`` and ``demo --reset`` move the old file (with its ``-wal`` and
``-shm``) aside, and only when no other process has it open: a till left selling into a moved-aside file would lose
every sale it rang up from then on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from shopkeeper.errors import ShopError

SQLITE_HEADER = b"SQLite format 3\x00"

# SQLite's unix VFS locks: every open connection in WAL mode keeps a read lock on the SHARED range of the database
# file for as long as it is open (sqlite3.c: PENDING_BYTE, SHARED_FIRST, SHARED_SIZE).
_SHARED_FIRST = 0x40000000 + 2
_SHARED_SIZE = 510


def refuse_foreign_file(path: Path) -> None:
    """Refuse an existing file that is not a shopkeeper database: empty, not SQLite, or SQLite holding other
    tables. Opening it would silently turn it into an empty shop (or add our tables to someone else's data)."""
    if not path.is_file():
        return
    try:
        with path.open("rb") as f:
            header = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise ShopError(f"database {path}: cannot read: {exc.strerror}") from None
    if header != SQLITE_HEADER:
        what = "an empty file" if not header else "not an SQLite file"
        raise ShopError(f"database {path}: not a shopkeeper database ({what}); give the shop's database, or run "
                        "`shopkeeper init` to make one", field="db", reason="not a shopkeeper database")
    try:
        con = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            tables = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return  # damaged, or unreadable here: opening it says what is wrong

    if tables and "schema_version" not in tables:
        raise ShopError(f"database {path}: not a shopkeeper database (an SQLite file with other tables)",
                        field="db", reason="not a shopkeeper database")


@contextlib.contextmanager
def exclusive(path: Path, what: str) -> Iterator[None]:
    """Hold the database file so that no SQLite connection can open it, or refuse if one already has it open.

    A non-blocking lock on SQLite's own SHARED range: it fails exactly when another process holds a connection
    (an idle till included), and while held, new connections wait in their busy handler. Locks are per process,
    so the caller must have closed its own connections to ``path`` first.
    """
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        yield
        return
    except OSError as exc:
        raise ShopError(f"database {path}: cannot open: {exc.strerror}") from None
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, _SHARED_SIZE, _SHARED_FIRST, os.SEEK_SET)
        except OSError:
            raise ShopError(f"database {path} is in use by another process (a till, the app or a counter); close "
                            f"it there first, then {what} again", field="db", reason="in use") from None
        try:
            yield
        finally:
            fcntl.lockf(fd, fcntl.LOCK_UN, _SHARED_SIZE, _SHARED_FIRST, os.SEEK_SET)
    finally:
        os.close(fd)


def move_aside(path: Path, what: str) -> Path | None:
    """Rename ``path`` (and its ``-wal``/``-shm``) to ``NAME.YYYYmmdd-HHMMSS.bak``; refuse while it is in use.
    Returns the new name, or None when there was nothing to move."""
    if not path.exists():
        return None
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{stamp}.bak")
    n = 1
    while Path(str(target)).exists():
        n += 1
        target = path.with_name(f"{path.name}.{stamp}-{n}.bak")
    with exclusive(path, what):
        # The main file last: while it is still in place, no new connection can pair it with a missing WAL.
        for suffix in ("-wal", "-shm", ""):
            src = Path(str(path) + suffix)
            if src.exists():
                src.rename(Path(str(target) + suffix))
    return target
