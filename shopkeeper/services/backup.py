"""Backups and restores of a SQLite shop: consistent copies, checked before they count, never written over a file
a shop is using.

A backup copies the live database with SQLite's online backup API (one consistent snapshot while tills keep
selling) into ``DEST.partial``, checks the copy with SQLite's full integrity check, and only then gives it its name.
A copy of a damaged database is refused, not written. ``DEST.partial`` is locked while it is written, so a backup
killed half way leaves one behind that the next backup to the same name recognises as stale and replaces.

A restore checks the copy the same way, refuses while any process still has the shop open, moves the current
database aside (never deletes it) and puts the copy in its place.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from shopkeeper.db import SCHEMA_VERSION, describe_error, is_sqlite, sqlite_path
from shopkeeper.dbfile import SIDECARS, in_use, move_aside, put_back
from shopkeeper.errors import ShopError
from shopkeeper.models import database
from shopkeeper.services.audit import integrity_problems

"""Files SQLite keeps beside a database while it is in use; they belong to it and must never be replaced."""


@dataclass(frozen=True)
class BackupDone:
    path: Path
    size: int
    replaced: bool  # an existing file was replaced (--force)
    stale_partial: bool  # a partial copy left by a killed backup was found and replaced


@dataclass(frozen=True)
class RestoreDone:
    source: Path
    database: Path
    moved_aside: list[Path]  # the old database (and its -wal) under their new names; empty if there was none
    schema_version: int
    products: int
    movements: int


def _same(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def _live_files() -> list[Path]:
    path = getattr(database.obj, "path", None)
    if path is None:
        return []
    path = path.resolve()
    return [path] + [Path(f"{path}{suffix}") for suffix in SIDECARS]


def _is_sqlite_file(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _refuse_live_target(dest: Path, what: str) -> None:
    """Refuse ``dest`` if writing it would damage a database: this shop's own files, another database's sidecar
    files, or a database some process has open."""
    for live in _live_files():
        if _same(dest, live):
            raise ShopError(f"{what}: {dest} is this shop's own database file {live.name}; name another file",
                            field="dest", reason="is the live database", value=str(dest))
    for suffix in SIDECARS:
        if dest.name.endswith(suffix) and dest.name != suffix:
            owner = dest.with_name(dest.name[: -len(suffix)])
            if _is_sqlite_file(owner):
                raise ShopError(f"{what}: {dest} belongs to the database {owner} (SQLite keeps its {suffix[1:]} "
                                "there); name another file", field="dest", reason="belongs to a database",
                                value=str(dest))
    if dest.exists() and in_use(dest):
        raise ShopError(f"{what}: {dest} is a database another process has open; name another file",
                        field="dest", reason="in use", value=str(dest))


@contextlib.contextmanager
def _partial(dest: Path):
    """``DEST.partial``, locked for as long as it is written; yields (path, whether a stale one was found).
    Removed again unless the caller renamed it."""
    partial = dest.with_name(dest.name + ".partial")
    fd = os.open(partial, os.O_RDWR | os.O_CREAT, 0o600)  # a backup holds every sale and PIN hash: the owner's
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ShopError(f"another backup to {dest} is being written right now ({partial.name}); try again "
                            "when it is done") from None
        stale = os.fstat(fd).st_size > 0
        os.ftruncate(fd, 0)  # a partial copy left by a killed backup: ours now, start afresh
        for suffix in SIDECARS:
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
        try:
            yield partial, stale
        finally:
            for suffix in SIDECARS:
                Path(f"{partial}{suffix}").unlink(missing_ok=True)
            if partial.exists() and os.path.samestat(os.stat(partial), os.fstat(fd)):
                partial.unlink()
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some file systems (a FAT stick) cannot sync a folder; the file itself is synced
        pass
    finally:
        os.close(fd)


def _publish(partial: Path, dest: Path, *, force: bool) -> None:
    """Give the finished copy its name: atomically, and without --force never over a file that exists by now."""
    with open(partial, "rb") as f:
        os.fsync(f.fileno())
    if force:
        os.replace(partial, dest)
    else:
        try:
            os.link(partial, dest)  # fails if dest exists, even one created a moment ago
        except FileExistsError:
            raise ShopError(f"backup: {dest} already exists (use --force to replace it)", field="dest",
                            reason="exists", value=str(dest)) from None
        except OSError:  # no hard links here (a FAT stick): a plain rename after a last look
            if dest.exists():
                raise ShopError(f"backup: {dest} already exists (use --force to replace it)") from None
            os.rename(partial, dest)
        else:
            partial.unlink()
    _sync_folder(dest.parent)


def backup(dest: str | Path, *, force: bool = False, ctx=None, group: str = "") -> BackupDone:
    """Copy the open shop database to ``dest``: consistent while others write, checked before it gets its name.

    Refuses a ``dest`` that is the database itself or one of its files, one that belongs to another database or
    that a process has open, and an existing file unless ``force``. A damaged database is not copied.

    The copy is readable by its owner only (or owner and ``group``, config ``[files] group``). With ``ctx`` the
    backup is recorded in the audit log (``backup_made``) after it is written (not in a read-only shop).
    """
    if not is_sqlite():
        raise ShopError("backup: use pg_dump for a PostgreSQL shop")
    dest = Path(dest).expanduser()
    if dest.is_dir():
        raise ShopError(f"backup: {dest} is a folder; name the file to write", field="dest", reason="is a folder")
    if not dest.parent.exists():
        raise ShopError(f"backup: folder {dest.parent} does not exist", field="dest", reason="no such folder")
    dest = dest.parent.resolve() / dest.name
    _refuse_live_target(dest.resolve(), "backup")
    existed = dest.exists() or dest.is_symlink()
    if existed and not force:
        raise ShopError(f"backup: {dest} already exists (use --force to replace it)", field="dest",
                        reason="exists", value=str(dest))
    source = database.connection()
    try:
        with _partial(dest) as (partial, stale):
            target = sqlite3.connect(partial)
            try:
                source.backup(target)
                target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                problems = integrity_problems(target, full=True)
            finally:
                target.close()
            if problems:
                raise ShopError("backup refused: the database is damaged, and a copy of it would be too (nothing "
                                "was written); run `shopkeeper check --full`:\n  " + "\n  ".join(problems),
                                reason="damaged")
            size = partial.stat().st_size
            from shopkeeper import files

            files.secure(partial, group)
            _publish(partial, dest, force=force)
    except OSError as exc:
        raise ShopError(f"backup to {dest} failed, nothing was written: {_os_reason(exc)}") from None
    except sqlite3.DatabaseError as exc:
        raise ShopError(f"backup to {dest} failed, nothing was written: {describe_error(exc) or exc}") from None
    if ctx is not None:
        _record(ctx, dest, size)
    return BackupDone(dest, size, existed, stale)


def _record(ctx, dest: Path, size: int) -> None:
    from peewee import DatabaseError

    from shopkeeper.db import write_transaction
    from shopkeeper.services import audit_log
    from shopkeeper.services.context import staff_id, terminal_id

    try:
        staff_id(ctx)
        terminal_id(ctx)
        with write_transaction():
            audit_log.record(ctx, "backup_made", subject=f"file:{dest.name}", detail={"path": str(dest),
                                                                                    "bytes": size})
    except (DatabaseError, sqlite3.DatabaseError, ShopError):  # a read-only shop can be copied, not written
        pass


def _os_reason(exc: OSError) -> str:
    import errno

    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.EROFS:
        return "the disk is read-only"
    return exc.strerror or str(exc)


def _read_only(src: Path) -> sqlite3.Connection:
    uri = f"file:{quote(str(src))}?mode=ro"
    if not Path(f"{src}-wal").exists():
        uri += "&immutable=1"  # a backup is a closed, self-contained file: read it without creating any -shm
    return sqlite3.connect(uri, uri=True)


def _read_copy(src: Path) -> tuple[int, int, int]:
    """Check the copy at ``src``: SQLite's full integrity check, and that it is a shop this version understands.
    Returns (schema version, products, movements)."""
    if not src.is_file():
        raise ShopError(f"restore: {src}: no such file", field="src", reason="not found", value=str(src))
    if not _is_sqlite_file(src):
        raise ShopError(f"restore: {src} is not a SQLite database", field="src", reason="not a database")
    try:
        con = _read_only(src)
    except sqlite3.Error as exc:
        raise ShopError(f"restore: cannot read {src}: {exc}") from None
    try:
        problems = integrity_problems(con, full=True)
        if problems:
            raise ShopError(f"restore refused: {src} is damaged; nothing was changed:\n  " + "\n  ".join(problems),
                            field="src", reason="damaged", value=str(src))
        try:
            version = con.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
            products = con.execute("SELECT count(*) FROM product").fetchone()[0]
            movements = con.execute("SELECT count(*) FROM movement").fetchone()[0]
        except sqlite3.DatabaseError:
            raise ShopError(f"restore refused: {src} is not a shopkeeper database", field="src",
                            reason="not a shop") from None
    finally:
        con.close()
    if version > SCHEMA_VERSION:
        raise ShopError(f"restore refused: {src} was written by a newer shopkeeper (schema {version}, this one "
                        f"understands {SCHEMA_VERSION}); upgrade shopkeeper first", field="src", reason="too new")
    return version, products, movements


def restore(src: str | Path, location: str) -> RestoreDone:
    """Replace the shop database at ``location`` by the backup ``src``, after checking ``src``.

    Call with the shop database closed in this process. Refused while any other process (a till, a counter, the
    app) has the database open: they would go on writing to the old file. The old database is moved aside.
    """
    if location.startswith(("postgres://", "postgresql://")):
        raise ShopError("restore: use pg_restore for a PostgreSQL shop")
    live = sqlite_path(location)
    if live is None:
        raise ShopError("restore: an in-memory database has nothing to restore into")
    src = Path(src).expanduser().resolve()
    live = live.parent.resolve() / live.name
    for path in (live, *(Path(f"{live}{suffix}") for suffix in SIDECARS)):
        if _same(src, path):
            raise ShopError(f"restore: {src} is the shop's own database file; name a backup", field="src",
                            reason="is the live database")
    version, products, movements = _read_copy(src)
    if live.exists() and in_use(live):
        raise ShopError(f"restore: {live} is open in another process (a till, a counter, the app); close them "
                        "first, nothing was changed", reason="in use")
    try:
        with _partial(live) as (partial, _stale):
            source = _read_only(src)
            target = sqlite3.connect(partial)
            try:
                source.backup(target)
                target.execute("PRAGMA journal_mode=DELETE")
            finally:
                target.close()
                source.close()
            with open(partial, "rb") as f:
                os.fsync(f.fileno())
            if live.exists() and in_use(live):  # opened while we copied
                raise ShopError(f"restore: {live} was opened by another process meanwhile; close it and try "
                                "again, nothing was changed", reason="in use")
            moved = move_aside(live, "restore")
            try:
                os.rename(partial, live)
            except OSError:
                if moved is not None:
                    put_back(moved, live)  # the old database back where it was
                raise
            _sync_folder(live.parent)
    except OSError as exc:
        raise ShopError(f"restore to {live} failed: {_os_reason(exc)}") from None
    files = [] if moved is None else [Path(f"{moved}{suffix}") for suffix in ("", *SIDECARS)
                                      if Path(f"{moved}{suffix}").exists()]
    return RestoreDone(src, live, files, version, products, movements)
