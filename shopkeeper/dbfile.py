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
import struct
from collections.abc import Iterator
from pathlib import Path

from shopkeeper.errors import ShopError

SQLITE_HEADER = b"SQLite format 3\x00"
SIDECARS = ("-wal", "-shm", "-journal")
"""The files SQLite keeps beside a database: they belong to it and move with it."""

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


def in_use(path: Path) -> bool:
    """Whether another process has the SQLite database ``path`` open (a probe: nothing is locked).

    SQLite holds a shared lock on a WAL database (and on the ``-shm`` file) for as long as a connection is open,
    also while it is idle; a lock test sees it. (Locks of this process itself are not seen: compare its own files
    by name.)
    """
    for candidate in (path, Path(f"{path}-shm")):
        try:
            fd = os.open(candidate, os.O_RDONLY)
        except OSError:
            continue
        try:
            probe = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
            lock_type = struct.unpack("hhqqi", fcntl.fcntl(fd, fcntl.F_GETLK, probe))[0]
        except OSError:
            continue
        finally:
            os.close(fd)
        if lock_type != fcntl.F_UNLCK:
            return True
    return False


def move_aside(path: Path, what: str) -> Path | None:
    """Rename ``path`` and its sidecar files to ``NAME.YYYYmmdd-HHMMSS.bak[-wal…]``, holding the file so no process
    opens it meanwhile; refuse while it is in use. Returns the new name of the database, or None when there was
    nothing to move."""
    if not path.exists():
        return None
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{stamp}.bak")
    n = 1
    while any(Path(f"{target}{suffix}").exists() for suffix in ("", *SIDECARS)):
        n += 1
        target = path.with_name(f"{path.name}.{stamp}-{n}.bak")
    with exclusive(path, what):
        # The main file last: while it is still in place, no new connection can pair it with a missing WAL.
        for suffix in (*SIDECARS, ""):
            src = Path(f"{path}{suffix}")
            if src.exists():
                src.rename(Path(f"{target}{suffix}"))
    return target


def put_back(moved: Path, path: Path) -> None:
    """Undo ``move_aside``: the files at ``moved`` (and its sidecars) go back to ``path``."""
    for suffix in ("", *SIDECARS):
        src = Path(f"{moved}{suffix}")
        if src.exists():
            src.rename(Path(f"{path}{suffix}"))
