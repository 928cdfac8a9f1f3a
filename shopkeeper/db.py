"""Open a shop database, keep its schema current, and run write transactions.

SQLite is opened in WAL mode with ``synchronous=FULL`` (an acknowledged sale survives a power cut), foreign keys on,
a busy timeout, and ``BEGIN IMMEDIATE`` for every write transaction, so two writers queue for the lock instead of
deadlocking on a lock upgrade. PostgreSQL (``postgresql://…``) is accepted for shops with several tills.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import io
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from peewee import Database, DatabaseError, OperationalError, PostgresqlDatabase, SqliteDatabase, _savepoint

from shopkeeper.errors import ShopError
from shopkeeper.models import ALL_MODELS, SchemaVersion, TillClaim, database

T = TypeVar("T")

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": 2,  # FULL
    "foreign_keys": 1,
    "cache_size": -16_000,  # 16 MB
    "temp_store": 2,
}


def utcnow() -> str:
    """The current time as sortable UTC ISO-8601 text."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_STATEMENTS: dict[tuple[type, str], str] = {}


def statement(db: Database, name: str, build: Callable[[str], str]) -> str:
    """The SQL of a hot-path statement, built once per kind of database by ``build(placeholder)``: at the till,
    building a Peewee query costs more than running it (see bench/bench_sales.py)."""
    key = (type(db), name)
    sql = _STATEMENTS.get(key)
    if sql is None:
        sql = _STATEMENTS[key] = build(db.param)
    return sql


def insert_id(db: Database, sql: str, params: Sequence[object]) -> int:
    """Run a hot-path INSERT and return the new row's id: SQLite's ``lastrowid`` (cheaper than ``RETURNING``),
    PostgreSQL's ``RETURNING id``."""
    if isinstance(db, SqliteDatabase):
        return db.execute_sql(sql, params).lastrowid
    return db.execute_sql(sql + " RETURNING id", params).fetchone()[0]


def is_sqlite(db: Database | None = None) -> bool:
    db = db or database.obj
    return isinstance(db, SqliteDatabase)


_rollback_serial = 0
_rollback_lock = threading.Lock()


def rollbacks() -> int:
    """A number that changes whenever this process rolls back a transaction or a savepoint, however it was begun
    (``write_transaction``, a bare ``atomic()``, a trial commit undone): what a transaction remembers about rows it
    wrote holds only while this stays the same (``services/chain.py``)."""
    return _rollback_serial


def _rolled_back() -> None:
    global _rollback_serial
    with _rollback_lock:
        _rollback_serial += 1


class _Savepoint(_savepoint):
    def rollback(self, begin: bool = True) -> None:
        _rolled_back()
        if not isinstance(self.db, SqliteDatabase) or self.db.sqlite_transaction_open():  # see ShopSqliteDatabase
            super().rollback(begin)


class ShopPostgresqlDatabase(PostgresqlDatabase):
    """PostgreSQL as the shop uses it: rollbacks are counted (``rollbacks``)."""

    def rollback(self) -> None:
        _rolled_back()
        super().rollback()

    def savepoint(self):
        return _Savepoint(self)


class ShopSqliteDatabase(SqliteDatabase):
    """SQLite as the shop uses it. ``path`` is the database file (``None`` in memory), also when it was opened
    read-only through a ``file:`` URI.

    After SQLITE_FULL or an I/O error SQLite may already have rolled the transaction back itself; Peewee's own
    rollback would then fail with "cannot rollback - no transaction is active" and hide the real error (a full
    disk). So a rollback with no transaction left is a no-op here.
    """

    def __init__(self, database, *args, path: Path | None = None, read_only: bool = False, **kwargs):
        super().__init__(database, *args, **kwargs)
        self.path = path
        self.read_only = read_only

    def rollback(self) -> None:
        _rolled_back()
        if self.sqlite_transaction_open():
            super().rollback()

    def savepoint(self):
        return _Savepoint(self)

    def sqlite_transaction_open(self) -> bool:
        """Whether SQLite itself still has a transaction open (it ends one by itself after some errors)."""
        return not self.is_closed() and self.connection().in_transaction


def _whole_numerics_as_int() -> None:
    """PostgreSQL's ``SUM`` of a ``bigint`` column is ``numeric``, which psycopg2 reads as a ``Decimal``: a sum of
    cents or thousandths would creep into the services as one. A ``numeric`` written without a fraction (what such
    a sum is) is read as ``int``; one with a fraction (an ``AVG``) stays ``Decimal``."""
    if getattr(_whole_numerics_as_int, "done", False):
        return
    try:
        import psycopg2.extensions as ext
    except ImportError:  # Peewee says what is missing when it connects
        return

    def cast(value: str | None, cursor) -> int | Decimal | None:
        if value is None:
            return None
        return int(value) if value.lstrip("-").isdigit() else Decimal(value)

    ext.register_type(ext.new_type((1700,), "SHOPKEEPER_NUMERIC", cast))  # 1700: numeric
    _whole_numerics_as_int.done = True


def sqlite_path(location: str) -> Path | None:
    """The file of a SQLite ``location`` (a path or ``sqlite:///path``); ``None`` for ``:memory:``."""
    if location.startswith("sqlite:///"):
        location = location[len("sqlite:///") - 1 :] if location.startswith("sqlite:////") else location[10:]
    elif "://" in location:
        scheme = location.split("://", 1)[0]
        raise ShopError(f"database URL {scheme}://…: unsupported (use a file path, sqlite:///… or postgresql://…)")
    if location == ":memory:":
        return None
    path = Path(location).expanduser()
    if not path.parent.exists():
        raise ShopError(f"database {location}: folder {path.parent} does not exist")
    return path


def make_database(location: str, *, busy_timeout_ms: int = 10_000, read_only: bool = False) -> Database:
    """A database object for a path, ``sqlite:///path`` or ``postgresql://user@host/db``."""
    if location.startswith(("postgres://", "postgresql://")):
        from playhouse.db_url import connect, register_database

        _whole_numerics_as_int()
        register_database(ShopPostgresqlDatabase, "postgres", "postgresql")
        return connect(location, **({} if "connect_timeout=" in location else {"connect_timeout": 5}))
    path = sqlite_path(location)
    if path is not None:
        location = str(path)
    pragmas = dict(SQLITE_PRAGMAS, busy_timeout=busy_timeout_ms)
    extra = {}
    if read_only and path is not None:
        location, extra = _read_only_uri(path), {"uri": True}
    return ShopSqliteDatabase(location, pragmas=pragmas, timeout=busy_timeout_ms / 1000, lock_type="IMMEDIATE",
                              path=path, read_only=read_only, **extra)


def _read_only_uri(path: Path) -> str:
    """A ``file:`` URI opening ``path`` read-only.

    A WAL database needs its ``-shm`` and ``-wal`` files even to be read. In a folder nobody may write (a read-only
    disk, a locked-down share) they cannot be created; when no ``-wal`` is left over, the file itself holds every
    committed change and nothing can write it, so SQLite may read it as immutable.
    """
    uri = f"file:{quote(str(path))}?mode=ro"
    wal = Path(f"{path}-wal")
    if not os.access(path.parent, os.W_OK) and (not wal.exists() or wal.stat().st_size == 0):
        uri += "&immutable=1"
    return uri


def open_database(location: str, *, busy_timeout_ms: int = 10_000, create: bool = True) -> Database:
    """Bind the models to the database at ``location`` and bring its schema up to date."""
    if not create and "://" not in location and location != ":memory:" and not Path(location).exists():
        raise ShopError(f"database {location}: not found (run `shopkeeper init` first)")
    if create and "://" not in location and location != ":memory:":
        _create_private(Path(location))
    db = make_database(location, busy_timeout_ms=busy_timeout_ms)
    try:
        _connect(db, location)
    except _ReadOnly:  # a file or folder we may not write: open it for reading (stock, journal, check, backup)
        db = make_database(location, busy_timeout_ms=busy_timeout_ms, read_only=True)
        _connect(db, location)
    try:
        migrate(db)
    except DatabaseError as exc:
        if error_kind(exc) != "read-only":
            raise
        raise StorageError(f"database {location} is read-only and needs upgrading to this shopkeeper's schema "
                           f"(version {SCHEMA_VERSION}); open it once where it can be written",
                           reason="read-only") from None
    return db


def _create_private(path: Path) -> None:
    """A new database file is its owner's alone (its -wal and -shm take its mode): see shopkeeper/files.py."""
    from shopkeeper.files import create_private

    if path.parent.is_dir():
        with contextlib.suppress(OSError):  # a folder we may not write: SQLite says so when it opens
            create_private(path)


class _ReadOnly(Exception):
    pass


def _connect(db: Database, location: str) -> None:
    database.initialize(db)
    for hook in _rollback_hooks:  # ids cached from another database (or an earlier life of this one) mean nothing
        hook()
    try:
        db.connect(reuse_if_open=True)
        if is_sqlite(db):
            db.execute_sql("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # the first read sets up the WAL
    except (DatabaseError, OSError) as exc:
        if not db.is_closed():
            db.close()
        path = getattr(db, "path", None)
        if (error_kind(exc) == "read-only" and path is not None and path.exists()
                and not getattr(db, "read_only", False)):
            raise _ReadOnly from None
        from shopkeeper.locations import display_location

        kind = error_kind(exc, path)
        # One line, naming host and database only: a PostgreSQL URL may carry a password.
        detail = " ".join(str(describe_error(exc, path) or exc).split())
        raise StorageError(f"database {display_location(location)}: cannot open: {detail}"
                           + ("; nothing was saved, free some space first" if kind == "disk full" else ""),
                           reason=kind or "cannot open") from None


def close_database() -> None:
    if database.obj is not None and not database.obj.is_closed():
        for hook in _before_close_hooks:
            hook()
        database.obj.close()


_before_close_hooks: list[Callable[[], None]] = []


def before_close(hook: Callable[[], None]) -> None:
    """Call ``hook`` when the open database is about to be closed (``close_database``), still open: the hash chains
    link what this process's commits left unlinked (``services/chain.py``)."""
    _before_close_hooks.append(hook)


_rollback_hooks: list[Callable[[], None]] = []


def on_rollback(hook: Callable[[], None]) -> None:
    """Call ``hook`` whenever a write transaction (or savepoint) rolls back, and whenever a database is opened:
    caches of ids must forget rows that were never committed, or that belong to another database."""
    _rollback_hooks.append(hook)


_before_commit_hooks: list[Callable[[], None]] = []


def before_commit(hook: Callable[[], None]) -> None:
    """Call ``hook`` at the end of every outermost ``write_transaction``, inside it, just before it commits (the
    hash chains seal the rows the transaction wrote: ``services/chain.py``)."""
    _before_commit_hooks.append(hook)


@contextlib.contextmanager
def kept_figures_written() -> Iterator[None]:
    """A write transaction for kept sums (the reports' caches): best effort. A busy or read-only database leaves
    them unwritten, silently; they are summed again next time, and nothing but speed depends on them."""
    try:
        with write_transaction():
            yield
    except (DatabaseError, ShopError):
        return


@contextlib.contextmanager
def write_transaction() -> Iterator[None]:
    """One write transaction: ``BEGIN IMMEDIATE`` on SQLite. Nested calls become savepoints. On SQLite the
    outermost one is announced on the writers' lock file from before it waits for the write lock until it ends
    (``let_writers_in``)."""
    db = database.obj  # the bound database: through the proxy, each step inside costs a lookup
    outermost = not db.in_transaction()
    announced = _announce(db) if outermost else None
    try:
        with db.atomic():
            yield
            if outermost:
                for hook in _before_commit_hooks:
                    hook()
    except BaseException as exc:
        for hook in _rollback_hooks:
            hook()
        if isinstance(exc, OperationalError):
            text = str(exc).lower()
            if any(sign in text for sign in _BUSY):
                raise DatabaseBusy("the database is busy: another till or process kept it locked for too long; "
                                   "nothing was saved, try again") from None
            if any(sign in text for sign in _CLASHED):
                raise DatabaseBusy("another till was changing the same products at the same moment; nothing was "
                                   "saved, try again", reason="clashed") from None
        if connection_lost(exc):
            raise ServerUnreachable("the database server is unreachable: nothing was saved; the connection is "
                                    "being retried", reason="unreachable") from None
        if isinstance(exc, (DatabaseError, sqlite3.DatabaseError)):
            message = describe_error(exc)
            if message is not None:
                raise StorageError(f"{message}; nothing was saved", reason=error_kind(exc)) from None
        raise
    finally:
        if announced is not None:
            fcntl.flock(announced, fcntl.LOCK_UN)


WRITERS_LOCK = "-writers"
"""A lock file beside a SQLite database (``shop.db-writers``, empty): every write transaction holds it shared from
before it asks for the write lock until it ends; a long job that writes in batches (an import) takes it exclusively
between batches, which it gets only when no one is waiting (``let_writers_in``). So the job pauses exactly as long
as a till needs, and not at all when none is selling. Locks held with ``flock``: per open file, so threads of one
process (a TUI selling while it imports) wait for each other as processes do."""

LET_IN_POLL = 0.002
"""Seconds between two tries of ``let_writers_in`` (a blocking ``flock`` cannot time out)."""


class _LockFiles(threading.local):
    """This thread's open writers' lock files: one to announce its transactions, one to let others in."""

    def __init__(self) -> None:
        self.files: dict[tuple[str, str], io.FileIO] = {}


_lock_files = _LockFiles()
# A forked child has copies of the parent's open files, and a flock belongs to the open file, shared by both: the
# child opens its own.
os.register_at_fork(after_in_child=lambda: setattr(_lock_files, "files", {}))


def _lock_file(db: Database, role: str) -> io.FileIO | None:
    """This thread's open writers' lock file of ``db`` for ``role``, or None: not a SQLite file (PostgreSQL's
    short transactions take no global lock, ``:memory:`` has no other writer), read-only, or a folder we may not
    write (then the job pauses a fixed time instead)."""
    path = getattr(db, "path", None)
    if path is None or getattr(db, "read_only", False) or not isinstance(db, SqliteDatabase):
        return None
    name = f"{path}{WRITERS_LOCK}"
    files = _lock_files.files
    found = files.get((role, name))
    if found is None:
        for key in [key for key in files if key[0] == role]:  # another database now: one file per role open
            files.pop(key).close()
        try:
            mode = os.stat(path).st_mode & 0o777  # the database's own, as SQLite gives its -wal and -shm
            found = files[(role, name)] = io.FileIO(os.open(name, os.O_RDWR | os.O_CREAT, mode), "r+")
        except OSError:
            return None
    return found


def _announce(db: Database) -> io.FileIO | None:
    """Hold the writers' lock file shared for the transaction about to begin (None: there is none)."""
    file = _lock_file(db, "announce")
    if file is None:
        return None
    for _ in range(ANNOUNCE_TRIES):  # held exclusively only while a job checks for waiters: an instant
        try:
            fcntl.flock(file, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return file
        except BlockingIOError:
            time.sleep(LET_IN_POLL)
        except OSError:
            return None
    return None  # a job stopped in that instant (suspended): this transaction goes on unannounced


ANNOUNCE_TRIES = 50
"""Tries (``LET_IN_POLL`` apart) to announce a write transaction before it goes on without: a till never hangs on
the lock file, whatever the job holding it does."""


def let_writers_in(timeout: float = 5.0) -> bool | None:
    """Call between the batches of a long job: wait until no write transaction of another connection (process or
    thread) is waiting or running, so whoever queued behind the last batch goes first; returns at once when none
    is. At most ``timeout`` seconds (a stuck writer: the next batch then waits for the write lock as usual).
    Returns whether someone was waiting; None when there is no writers' lock file (see ``_lock_file``) or the job
    is inside a transaction of its own: the caller pauses instead."""
    db = database.obj
    file = _lock_file(db, "let_in") if not db.in_transaction() else None
    if file is None:
        return None
    deadline = time.monotonic() + timeout
    waited = False
    while True:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return True
            waited = True
            time.sleep(LET_IN_POLL)
            continue
        except OSError:
            return None
        fcntl.flock(file, fcntl.LOCK_UN)
        return waited


@contextlib.contextmanager
def deferred_sync() -> Iterator[None]:
    """Commits of this connection not flushed to disk one by one until the block ends (SQLite in WAL mode:
    ``synchronous=NORMAL``, which keeps the database consistent and may lose only the last commits at a power cut).
    The next commit flushed as usual (this connection's after the block, or any till's: a sale flushes the whole
    log before it) makes them durable. Only for work that is finished by running it again (an import's batches,
    whose progress is in the same transactions), never for a sale."""
    db = database.obj
    if not is_sqlite(db) or db.in_transaction():
        yield
        return
    db.execute_sql("PRAGMA synchronous = NORMAL")
    try:
        yield
    finally:
        db.execute_sql(f"PRAGMA synchronous = {SQLITE_PRAGMAS['synchronous']}")


_BUSY = ("database is locked", "database table is locked", "database is busy", "lock timeout")
"""SQLite's busy timeout running out (and PostgreSQL's lock_timeout, when a shop sets one)."""
_CLASHED = ("deadlock detected", "could not serialize access")
"""PostgreSQL ending one of two transactions that waited for each other."""


class DatabaseBusy(ShopError):
    """The busy timeout ran out while another process held the write lock. Nothing was written."""


class ServerUnreachable(ShopError):
    """The connection to the PostgreSQL server was lost (server down, network gone, connection ended)."""


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` (or the error behind it) means the connection to a PostgreSQL server is gone, rather than a
    statement that failed: libpq reports those with no SQLSTATE, or a class 08 / 57P0x (admin shutdown) one."""
    seen = 0
    while exc is not None and seen < 8:
        seen += 1
        module = type(exc).__module__ or ""
        if module.startswith("psycopg2"):
            name = type(exc).__name__
            if name == "InterfaceError":
                return True
            if name in ("OperationalError", "AdminShutdown", "CrashShutdown", "CannotConnectNow"):
                code = getattr(exc, "pgcode", None)
                return code is None or code.startswith(("08", "57P0"))
            code = getattr(exc, "pgcode", None) or ""
            return code.startswith(("08", "57P0"))
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False


def reconnect() -> None:
    """Drop this thread's (dead) connection and open a new one; raises when the server is still unreachable."""
    db = database.obj
    try:
        db.close()
    except DatabaseError:
        pass
    db.connect(reuse_if_open=True)
    db.execute_sql("SELECT 1").fetchone()


def backend_pid() -> int | None:
    """The PostgreSQL server process of this thread's connection (None on SQLite): the change listener ignores
    the notifications of our own commits, which the app already knows about."""
    if is_sqlite():
        return None
    return database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]


CLASH_ATTEMPTS = 5


def retry_clashes(function: Callable[..., T]) -> Callable[..., T]:
    """Run ``function`` (a whole unit of work: its reads, its checks and its write transaction) again when
    PostgreSQL ended its transaction for a deadlock or a serialization failure, up to ``CLASH_ATTEMPTS`` times.
    Inside an outer transaction it runs once: only the outermost unit of work can be re-run, the aborted
    transaction is the caller's."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        for attempt in range(1, CLASH_ATTEMPTS + 1):
            if database.obj is None or database.obj.in_transaction():
                return function(*args, **kwargs)
            try:
                return function(*args, **kwargs)
            except DatabaseBusy as exc:
                if exc.reason != "clashed" or attempt == CLASH_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0, 0.002 * 2 ** attempt))  # spread the retries of the two tills
        raise AssertionError("unreachable")

    return run


class StorageError(ShopError):
    """The storage under the database refused: a full disk, a read-only file, a damaged file. ``reason`` is
    ``error_kind``'s answer."""


def _sqlite_error(exc: BaseException) -> sqlite3.Error | None:
    """The sqlite3 error behind ``exc`` (Peewee wraps the driver's error as ``exc.orig``)."""
    while exc is not None:
        if isinstance(exc, sqlite3.Error):
            return exc
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return None


def _disk_is_full(path: Path | None) -> bool:
    """Whether the file system holding ``path`` has (next to) no room left for us."""
    if path is None:
        return False
    try:
        st = os.statvfs(path.parent)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < 64 * 1024


def error_kind(exc: BaseException, path: Path | None = None) -> str | None:
    """``"disk full"``, ``"read-only"`` or ``"damaged"`` for a database error the shop can explain, else ``None``.

    A completely full disk does not always reach SQLite as SQLITE_FULL: a write or sync that fails for want of room
    may come back as a plain "disk I/O error"; the free space of the database's file system settles it.
    """
    if path is None:
        path = getattr(database.obj, "path", None)
    error = _sqlite_error(exc)
    if error is not None:
        code = getattr(error, "sqlite_errorcode", None)
        if code is None:
            text = str(error)
            code = (13 if "disk is full" in text else 8 if "readonly" in text else
                    11 if "malformed" in text else 10 if "disk I/O" in text else -1)
        primary = code & 0xFF
        if primary == 13:  # SQLITE_FULL
            return "disk full"
        if primary == 10:  # SQLITE_IOERR
            return "disk full" if _disk_is_full(path) else None
        if primary == 8:  # SQLITE_READONLY
            return "read-only"
        if primary in (11, 26):  # SQLITE_CORRUPT, SQLITE_NOTADB
            return "damaged"
        return None
    pgcode = getattr(getattr(exc, "orig", exc), "pgcode", None)
    if pgcode == "53100":  # disk_full
        return "disk full"
    if pgcode == "25006":  # read_only_sql_transaction
        return "read-only"
    if pgcode in ("XX001", "XX002"):  # data_corrupted, index_corrupted
        return "damaged"
    return None


def describe_error(exc: BaseException, path: Path | None = None) -> str | None:
    """What a database error means to the shop, in words, or ``None`` when ``error_kind`` does not know it."""
    kind = error_kind(exc, path)
    if kind == "disk full":
        return "the disk is full"
    if kind == "read-only":
        return "the database is read-only (file or folder permissions, or a read-only disk)"
    if kind == "damaged":
        return "the database file is damaged: run `shopkeeper check --full`, and restore the last good backup"
    return None


def locked(query):
    """``query`` locking the rows it reads until the transaction ends, where that is needed.

    SQLite needs nothing: ``BEGIN IMMEDIATE`` already serialises writers. PostgreSQL runs READ COMMITTED, so a value
    read and then written back (moving average cost, what is left to return, an open session) takes a row lock.
    """
    return query if is_sqlite() else query.for_update("FOR NO KEY UPDATE")  # see lock_in_order


def lock_in_order(model, ids) -> None:
    """Lock the rows of ``model`` with these ``ids`` in id order, until the transaction ends (PostgreSQL).

    Two tills posting the same products in different orders would otherwise each hold one row the other waits for,
    and PostgreSQL would end one of them with "deadlock detected". SQLite needs nothing: ``BEGIN IMMEDIATE`` lets
    one writer in at a time.
    """
    if len(ids) > 1 and not is_sqlite():
        # NO KEY UPDATE is the lock the UPDATE itself takes: it leaves rows that reference these (a till's draft
        # lines, barcodes) free to be inserted meanwhile, where a plain FOR UPDATE would make them wait.
        (model.select(model.id).where(model.id.in_(sorted(ids))).order_by(model.id)
         .for_update("FOR NO KEY UPDATE").execute())


def data_version() -> int:
    """SQLite's ``PRAGMA data_version``: changes when another connection commits. Cheap; poll it.

    PostgreSQL has no equivalent and needs none: its triggers announce every change (``CHANGE_CHANNEL``,
    ``shopkeeper.live``)."""
    return database.execute_sql("PRAGMA data_version").fetchone()[0]


# --- migrations -----------------------------------------------------------------------------------------------
# One numbered step per schema change; a shop's database is brought forward step by step, each in a transaction.

APPEND_ONLY_TABLES = ("movement", "sale", "sale_line")
"""The tables m001 protects; later migrations protect their own tables (``product_change`` in m009)."""


PROTECTED_TABLES = APPEND_ONLY_TABLES + (
    "product_change", "purchase_order_event", "till_session", "till_session_close", "cash_movement", "payment",
    "audit_event", "chain_link", "chain_checkpoint")
"""Every table some migration made append-only (a migration that protects a new table adds it here):
``shopkeeper check`` says when one of them has lost its protection."""


def _append_only_sql(table: str, action: str) -> str:
    return (f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: post a correcting entry instead'); END")


def unprotected(db: Database) -> list[str]:
    """What has lost its append-only protection: ``"sale: UPDATE"`` for each protected table whose trigger is
    missing, changed or disabled. Someone who can write the file did that; only a head printed earlier
    (``check --against``) says whether history was rewritten meanwhile."""
    out = []
    if is_sqlite(db):
        found = dict(db.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
        for table in PROTECTED_TABLES:
            for action in ("UPDATE", "DELETE"):
                sql = " ".join((found.get(f"{table}_no_{action.lower()}") or "").split()).upper()
                if f"BEFORE {action} ON {table.upper()} " not in sql or "RAISE(ABORT" not in sql:
                    out.append(f"{table}: {action}")
        return out
    rows = db.execute_sql(
        "SELECT c.relname, t.tgenabled, p.proname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_proc p ON p.oid = t.tgfoid WHERE c.relnamespace = current_schema()::regnamespace "
        "AND t.tgname = c.relname || '_append_only'").fetchall()
    enabled = {table for table, state, function in rows
               if state in ("O", "A") and function == "shopkeeper_append_only"}  # not 'D'isabled
    return [f"{table}: UPDATE, DELETE" for table in PROTECTED_TABLES if table not in enabled]


def _append_only_sqlite(db: Database, tables: Sequence[str] = APPEND_ONLY_TABLES) -> None:
    for table in tables:
        for action in ("UPDATE", "DELETE"):
            db.execute_sql(_append_only_sql(table, action))


def _append_only_postgres(db: Database, tables: Sequence[str] = APPEND_ONLY_TABLES) -> None:
    db.execute_sql(
        "CREATE OR REPLACE FUNCTION shopkeeper_append_only() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION '%% is append-only: post a correcting entry instead', TG_TABLE_NAME; END $$ "
        "LANGUAGE plpgsql"
    )
    for table in tables:
        db.execute_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        db.execute_sql(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION shopkeeper_append_only()"
        )


def _m001_initial(db: Database) -> None:
    db.create_tables(ALL_MODELS)
    if is_sqlite(db):
        _append_only_sqlite(db)
    else:
        _append_only_postgres(db)
    if is_sqlite(db):
        db.execute_sql("CREATE INDEX IF NOT EXISTS product_name ON product (name COLLATE NOCASE)")
    else:
        db.execute_sql("CREATE INDEX IF NOT EXISTS product_name ON product ((lower(name)))")
    db.execute_sql("CREATE INDEX IF NOT EXISTS product_low ON product ((on_hand - reorder_point))")
    db.execute_sql("CREATE INDEX IF NOT EXISTS product_price ON product (price)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS product_reorder_point ON product (reorder_point)")
    # No index on movement.sale_id: every sale would pay for it, and nothing looks movements up by sale.
    for table, column in (("movement", "count_session_id"), ("sale", "original_id"),
                          ("sale_line", "original_line_id")):
        db.execute_sql(f"CREATE INDEX IF NOT EXISTS {table}_{column} ON {table} ({column}) "
                       f"WHERE {column} IS NOT NULL")


def _m002_shop_settings(db: Database) -> None:
    """The shop's currency and decimals (and whether the demo made it) live in the database, not only in config:
    a till with another config must not read 1290 minor units as 12.90. See ``services/shop_settings.py``."""
    from shopkeeper.models import ShopSetting

    db.create_tables([ShopSetting])


def _m003_till_claims(db: Database) -> None:
    """Leases on till names (``TillClaim``): one running app per till."""
    db.create_tables([TillClaim])


def _m004_draft_discount_rates(db: Database) -> None:
    """Percentage discounts on open sales stay percentages (``discount_rate``) until payment. A database created
    by this version already has the columns (m001 creates the tables from the models)."""
    from peewee import IntegerField
    from playhouse.migrate import SchemaMigrator, migrate

    migrator = SchemaMigrator.from_database(db)
    for table in ("open_sale", "open_sale_line"):
        if "discount_rate" not in {column.name for column in db.get_columns(table, schema=current_schema(db))}:
            migrate(migrator.add_column(table, "discount_rate", IntegerField(null=True)))




def current_schema(db: Database) -> str | None:
    """PostgreSQL's current schema (the first of ``search_path``; a shop may live outside ``public``); ``None``
    on SQLite. Peewee's ``table_exists`` and ``get_columns`` look in ``public`` unless told."""
    if is_sqlite(db):
        return None
    return db.execute_sql("SELECT current_schema()").fetchone()[0]


def _shop_tables() -> list[str]:
    from shopkeeper.models import BaseModel

    tables, pending = [], list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        tables.append(model._meta.table_name)
        pending.extend(model.__subclasses__())
    return sorted(set(tables))


def _m005_bigint_text(db: Database) -> None:
    """PostgreSQL: integer columns become ``bigint`` (money, quantities and ids past 2^31) and ``varchar(255)``
    columns ``text``, on every shop table; sequences count in ``bigint``. Models already declare these types, so a
    new database has them; this brings an older one forward. Idempotent.
    SQLite's INTEGER is 64-bit and its varchar is text already: nothing to do."""
    if is_sqlite(db):
        return
    tables = _shop_tables()
    columns = db.execute_sql(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND data_type IN ('smallint', 'integer', 'character varying') "
        "AND table_name = ANY(%s) ORDER BY table_name, ordinal_position", (tables,)).fetchall()
    by_table: dict[str, list[str]] = {}
    for table, column, data_type in columns:
        new_type = "text" if data_type == "character varying" else "bigint"
        by_table.setdefault(table, []).append(f'ALTER COLUMN "{column}" TYPE {new_type}')
    for table, changes in by_table.items():
        db.execute_sql(f'ALTER TABLE "{table}" {", ".join(changes)}')
    sequences = db.execute_sql(
        "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema() "
        "AND data_type <> 'bigint' AND sequence_name = ANY(%s)", ([f"{t}_id_seq" for t in tables],)).fetchall()
    for (sequence,) in sequences:
        db.execute_sql(f'ALTER SEQUENCE "{sequence}" AS bigint')


def _m006_lot_expiry(db: Database) -> None:
    """Lot and expiry from an item's label (GS1 AI 10 and 17) on the open sale line, the sale line and the
    movement, so a recall can find what was sold. Nullable text: most goods have neither. A database created by
    this version already has the columns (m001 creates the tables from the models)."""
    from peewee import TextField
    from playhouse.migrate import SchemaMigrator, migrate

    migrator = SchemaMigrator.from_database(db)
    for table in ("open_sale_line", "sale_line", "movement"):
        have = {column.name for column in db.get_columns(table, schema=current_schema(db))}
        for column in ("lot", "expiry"):
            if column not in have:
                migrate(migrator.add_column(table, column, TextField(null=True)))


def _m007_sale_created_at(db: Database) -> None:
    """Reports read sales by date range (``services/reports.py``): an index on ``sale.created_at``."""
    db.execute_sql("CREATE INDEX IF NOT EXISTS sale_created_at ON sale (created_at)")


def _m008_sales_hour(db: Database) -> None:
    """Kept sums of closed hours of sales (``services/sales_cache.py``): a cache, checked against the sale table
    on every read, so neither append-only nor part of the books."""
    db.execute_sql("CREATE TABLE IF NOT EXISTS sales_hour (hour TEXT NOT NULL, kind TEXT NOT NULL, "
                   "sale_rows BIGINT NOT NULL, sales BIGINT NOT NULL, total BIGINT NOT NULL, tax BIGINT NOT NULL, "
                   "discount BIGINT NOT NULL, cogs BIGINT NOT NULL, PRIMARY KEY (hour, kind))")
    # and of closed UTC days, by payment, staff, till, category and tax rate (a row with dim '' marks a day
    # without sales)
    db.execute_sql("CREATE TABLE IF NOT EXISTS sales_day (day TEXT NOT NULL, dim TEXT NOT NULL, "
                   "key TEXT NOT NULL, kind TEXT NOT NULL, sale_rows BIGINT NOT NULL, sales BIGINT NOT NULL, "
                   "total BIGINT NOT NULL, tax BIGINT NOT NULL, discount BIGINT NOT NULL, cogs BIGINT NOT NULL, "
                   "PRIMARY KEY (day, dim, key, kind))")


def _m009_product_change(db: Database) -> None:
    """The product change log (price, tax, average cost, unit, active: who, when, till, old → new), append-only."""
    from shopkeeper.models import ProductChange

    db.create_tables([ProductChange])
    if is_sqlite(db):
        _append_only_sqlite(db, ("product_change",))
    else:
        _append_only_postgres(db, ("product_change",))


PARKED_ON_UPGRADE = "parked on upgrade: a second open sale at this till"


def _m010_one_open_sale_per_till(db: Database) -> None:
    """At most one open (not parked) sale per till, as a unique partial index: two sessions opening one till at
    once get one draft (the second insert fails, and ``till`` reads the winner's).

    A database from an earlier version may already hold several open sales at one till (that race): the oldest
    stays open (the one the till showed) and the others are parked, lines and all, with a note saying why; nothing
    is deleted, and the till can resume them (Ctrl+O). A draft without a till counts as till 0."""
    rows = db.execute_sql("SELECT id, COALESCE(terminal_id, 0) FROM open_sale WHERE status = 'open' "
                          "ORDER BY id").fetchall()
    seen: set[int] = set()
    extra = []
    for draft_id, till in rows:
        if till in seen:
            extra.append(draft_id)
        seen.add(till)
    p = db.param
    for draft_id in extra:
        db.execute_sql(f"UPDATE open_sale SET status = 'parked', note = CASE WHEN note = '' THEN {p} ELSE note END "
                       f"WHERE id = {p}", (PARKED_ON_UPGRADE, draft_id))
    db.execute_sql("CREATE UNIQUE INDEX IF NOT EXISTS open_sale_one_open_per_till "
                   "ON open_sale ((COALESCE(terminal_id, 0))) WHERE status = 'open'")


def _m011_search_indexes(db: Database) -> None:
    """PostgreSQL: the stock filter's case-insensitive substring search (``lower(name) LIKE '%…%'``) served by
    trigram indexes on the lower-cased name and SKU, and barcode prefixes (``LIKE '4006…%'``) by a pattern index whatever the collation.

    ``pg_trgm`` ships with PostgreSQL (Debian's ``postgresql-15`` package) and is a trusted extension since 13, so
    the database's owner may create it; where that is refused the migration goes on without the trigram indexes
    and the filter scans the table (docs/tills.md shows the statements to run later). SQLite has no index for a
    substring: its scan costs about 10 ms at 100,000 products, and the name order uses ``product_name``."""
    if is_sqlite(db):
        return
    db.execute_sql("CREATE INDEX IF NOT EXISTS barcode_code_pattern ON barcode (code text_pattern_ops)")
    ops = _trigram_opclass(db)
    if ops is None:
        return
    for column in ("name", "sku"):
        db.execute_sql(f"CREATE INDEX IF NOT EXISTS product_{column}_trgm ON product USING gin "
                       f"(lower({column}) {ops})")


def _trigram_opclass(db: Database) -> str | None:
    """``pg_trgm``'s GIN operator class, schema-qualified, creating the extension when it is missing and allowed;
    ``None`` when it cannot be had."""
    try:
        with db.atomic():  # a savepoint: a refusal must not end the migration's transaction
            db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError:
        pass
    row = db.execute_sql("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                         "WHERE e.extname = 'pg_trgm'").fetchone()
    if row is None:
        return None
    schema = row[0].replace('"', '""')
    return f'"{schema}".gin_trgm_ops'


CHANGE_CHANNEL = "shopkeeper"
"""PostgreSQL: every committed change to a shop table is announced on this channel as ``<table>:<id>`` (or
``<table>`` for a table without an ``id``), by triggers, so every writer (app, CLI, counter, an older version) is
heard by every open screen (``shopkeeper.live``)."""

QUIET_TABLES = ("schema_version", "till_claim")
"""Tables whose changes no screen shows: a till's lease is renewed every few seconds."""


def notify_changes(db: Database, table: str) -> None:
    """PostgreSQL: announce every committed change to ``table`` on ``CHANGE_CHANNEL`` (a later migration adding a
    table calls this for it). NOTIFY is sent at commit; a rolled-back change is never announced."""
    if is_sqlite(db):
        return
    db.execute_sql(
        "CREATE OR REPLACE FUNCTION shopkeeper_notify_row() RETURNS trigger AS $$ BEGIN "
        "PERFORM pg_notify('" + CHANGE_CHANNEL + "', TG_TABLE_NAME || ':' || "
        "CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END); RETURN NULL; END $$ LANGUAGE plpgsql")
    db.execute_sql(
        "CREATE OR REPLACE FUNCTION shopkeeper_notify_table() RETURNS trigger AS $$ BEGIN "
        "PERFORM pg_notify('" + CHANGE_CHANNEL + "', TG_TABLE_NAME); RETURN NULL; END $$ LANGUAGE plpgsql")
    has_id = "id" in {column.name for column in db.get_columns(table, schema=current_schema(db))}
    db.execute_sql(f'DROP TRIGGER IF EXISTS {table}_notify ON "{table}"')
    if has_id:
        db.execute_sql(f'CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
                       f"FOR EACH ROW EXECUTE FUNCTION shopkeeper_notify_row()")
    else:
        db.execute_sql(f'CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
                       f"FOR EACH STATEMENT EXECUTE FUNCTION shopkeeper_notify_table()")


def _m012_change_notices(db: Database) -> None:
    """PostgreSQL: triggers announce every change to every shop table on ``CHANGE_CHANNEL`` (LISTEN/NOTIFY), so
    screens on other tills repaint within milliseconds instead of polling. SQLite keeps ``PRAGMA data_version``."""
    if is_sqlite(db):
        return
    existing = set(db.get_tables(schema=current_schema(db)))
    for table in _shop_tables():
        if table in existing and table not in QUIET_TABLES:
            notify_changes(db, table)


def _m013_product_search_text(db: Database) -> None:
    """PostgreSQL: ``product.search_text``, the lower-cased name and SKU (joined by a newline) stored as a generated
    column, which the stock filter searches with one plain ``LIKE`` (``dialect.name_or_sku_contains``), and its
    trigram index in place of m011's two. ``lower()`` on every row was most of a filter's cost when no index can
    serve it (one or two letters: 37 ms at 100,000 products, 13 ms on the stored text). Adding the column rewrites
    the table once (about a second at 100,000 products). SQLite keeps its scan, whose ``LIKE`` is cheap."""
    if is_sqlite(db):
        return
    db.execute_sql("ALTER TABLE product ADD COLUMN IF NOT EXISTS search_text text "
                   "GENERATED ALWAYS AS (lower(name || E'\\n' || sku)) STORED")
    ops = _trigram_opclass(db)
    if ops is None:
        return
    db.execute_sql(f"CREATE INDEX IF NOT EXISTS product_search_trgm ON product USING gin (search_text {ops})")
    db.execute_sql("DROP INDEX IF EXISTS product_name_trgm")
    db.execute_sql("DROP INDEX IF EXISTS product_sku_trgm")


def _add_missing_columns(db: Database, model) -> None:
    """Add the columns ``model`` declares that its table lacks (a database created before them); a new database
    already has them, since m001 creates the tables from the models as they are now.

    One ``ALTER TABLE … ADD COLUMN`` each, with the column's own definition: a NOT NULL column comes with its
    database DEFAULT (every such new column has one), so existing rows take it at once. (Peewee's migrator adds
    NOT NULL in a second step, which SQLite can only do by rebuilding the table: that fails on a table other rows
    refer to, such as ``staff`` or ``product``, and would rewrite a big table for nothing.)"""
    table = model._meta.table_name
    have = {column.name for column in db.get_columns(table, schema=current_schema(db))}
    for field in model._meta.sorted_fields:
        if field.column_name in have:
            continue
        if not field.null and not any("DEFAULT" in str(getattr(c, "sql", c)).upper() for c in field.constraints or ()):
            raise ShopError(f"{table}.{field.column_name}: a new NOT NULL column needs a database DEFAULT")
        sql, params = db.get_sql_context().sql(field.ddl(db.get_sql_context())).query()
        db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN {sql}', params)


def _new_tables(db: Database, models, *, append_only: Sequence[str] = ()) -> None:
    """Create ``models``' tables, protect ``append_only`` ones, and announce changes on PostgreSQL."""
    db.create_tables(models)
    if append_only:
        (_append_only_sqlite if is_sqlite(db) else _append_only_postgres)(db, tuple(append_only))
    for model in models:
        notify_changes(db, model._meta.table_name)


def _m014_ordering(db: Database) -> None:
    """Suppliers' details, product–supplier links (item code, pack, pack cost), purchase orders with lines and an
    append-only status history; the journal names the supplier and order line of a delivery or a return to a
    supplier. A product with a typed reorder point keeps it (manual); the others learn theirs (auto)."""
    from shopkeeper.models import (Movement, Product, ProductSupplier, PurchaseOrder, PurchaseOrderEvent,
                                   PurchaseOrderLine, Supplier)

    had_mode = "reorder_mode" in {c.name for c in db.get_columns("product", schema=current_schema(db))}
    for model in (Supplier, Product, Movement):
        _add_missing_columns(db, model)
    if not had_mode:
        db.execute_sql("UPDATE product SET reorder_mode = 'manual' WHERE reorder_point > 0")
    _new_tables(db, [ProductSupplier, PurchaseOrder, PurchaseOrderLine, PurchaseOrderEvent],
                append_only=("purchase_order_event",))
    db.execute_sql("CREATE UNIQUE INDEX IF NOT EXISTS product_supplier_one_preferred "
                   "ON product_supplier (product_id) WHERE preferred")
    db.execute_sql("CREATE INDEX IF NOT EXISTS purchase_order_event_order ON purchase_order_event (order_id, id)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS purchase_order_line_product ON purchase_order_line (product_id)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS movement_po_line ON movement (po_line) WHERE po_line IS NOT NULL")


def _m015_till_sessions_payments(db: Database) -> None:
    """Till sessions (float, cash in/out, no sale, the Z report's close) and payments as rows of their own (split
    tender), all append-only; a sale names its session and its cash rounding. Every earlier sale gets one payment
    row from its ``payment`` column, so the books read payments alone."""
    from shopkeeper.models import CashMovement, Payment, Sale, TillSession, TillSessionClose

    _add_missing_columns(db, Sale)
    _new_tables(db, [TillSession, TillSessionClose, CashMovement, Payment],
                append_only=("till_session", "till_session_close", "cash_movement", "payment"))
    db.execute_sql("CREATE INDEX IF NOT EXISTS sale_till_session ON sale (till_session) "
                   "WHERE till_session IS NOT NULL")
    db.execute_sql('INSERT INTO payment (sale_id, method, amount, tendered, "change") '
                   'SELECT id, payment, total, tendered, "change" FROM sale ORDER BY id')


def _m016_audit_event(db: Database) -> None:
    """The audit log of sensitive acts that are not stock movements, append-only."""
    from shopkeeper.models import AuditEvent

    _new_tables(db, [AuditEvent], append_only=("audit_event",))


def _m017_tax_rate_thousandths(db: Database) -> None:
    """Tax rates with three decimals (8.875 %): stored rates go from basis points (2000 = 20 %) to thousandths of a
    percent (20000 = 20 %, ``money.RATE_SCALE``) in every table that holds one — products, open sales, sale lines,
    and the product change log's logged tax rates — and the kept daily sums (``sales_day``, keyed by rate) are
    dropped, to be summed again at the new scale on their next read.

    ``sale_line`` and ``product_change`` are append-only: their triggers are dropped and recreated around the
    rescale, inside this migration's one transaction (so no other connection ever sees them unprotected, and a
    failure leaves everything as it was). Every stored value keeps its meaning — 20 % stays 20 % — so this is a
    one-time change of unit, not a rewrite of history; the alternative, a second column for the new scale, would
    have left two columns that must agree and every reader choosing between them."""
    rescaled = ("sale_line", "product_change")
    for table in rescaled:
        if is_sqlite(db):
            db.execute_sql(f"DROP TRIGGER IF EXISTS {table}_no_update")
            db.execute_sql(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        else:
            db.execute_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    for table in ("product", "open_sale_line", "sale_line"):
        db.execute_sql(f"UPDATE {table} SET tax_rate = tax_rate * 10 WHERE tax_rate <> 0")
    for column in ("old", "new"):
        db.execute_sql(f"UPDATE product_change SET {column} = CAST(CAST({column} AS BIGINT) * 10 AS TEXT) "
                       f"WHERE field = 'tax_rate' AND {column} IS NOT NULL")
    (_append_only_sqlite if is_sqlite(db) else _append_only_postgres)(db, rescaled)
    db.execute_sql("DELETE FROM sales_day")


def _m018_import_runs(db: Database) -> None:
    """Progress of product imports, which now write in short transactions (an interrupted one carries on)."""
    from shopkeeper.models import ImportRun

    _new_tables(db, [ImportRun])


def _m019_po_line_edited(db: Database) -> None:
    """A purchase order line keeps the supplier's price per pack (a case of 24 at 10.00 is not 24 × a rounded unit
    cost), and remembers that a person changed it, so the morning ``po draft`` leaves it as edited."""
    from shopkeeper.models import PurchaseOrderLine

    _add_missing_columns(db, PurchaseOrderLine)


def _m020_reorder_position(db: Database) -> None:
    """Low stock is judged by inventory position (on hand + on order) against the reorder point: the index the
    low-stock pane and ``reorder.low_stock_query`` walk, in place of m001's ``on_hand - reorder_point`` one (which
    nothing reads any more, and which every sale paid to maintain)."""
    db.execute_sql("CREATE INDEX IF NOT EXISTS product_position ON product ((on_hand + on_order - reorder_point))")
    db.execute_sql("DROP INDEX IF EXISTS product_low")


def _m021_staff_pins(db: Database) -> None:
    """Staff PINs and roles: a role (cashier by default), a salted slow PIN hash, wrong PINs in a row and a
    lockout time. Existing staff get no PIN: roles apply once someone has one (``services/permissions.py``)."""
    from shopkeeper.models import Staff

    _add_missing_columns(db, Staff)
    db.execute_sql("CREATE INDEX IF NOT EXISTS audit_event_kind ON audit_event (kind, id)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS audit_event_staff ON audit_event (staff_id, id)")


def _m022_chain(db: Database) -> None:
    """The hash chains over the journal, the sales and the audit log (``services/chain.py``, docs/chain.md): one
    link per row, ``(stream, position)`` unique so two commits can never fork a chain, and verified checkpoints.
    Both tables are append-only. Rows written before this version are linked here, in id order."""
    blob = "BLOB" if is_sqlite(db) else "BYTEA"
    db.execute_sql(f"CREATE TABLE IF NOT EXISTS chain_link (stream BIGINT NOT NULL, position BIGINT NOT NULL, "
                   f"row_id BIGINT NOT NULL, hash {blob} NOT NULL, PRIMARY KEY (stream, position))"
                   + (" WITHOUT ROWID" if is_sqlite(db) else ""))
    # No index on (stream, row_id): each would be one more page written per sale; only a failing check needs it.
    key = "INTEGER PRIMARY KEY AUTOINCREMENT" if is_sqlite(db) else "BIGSERIAL PRIMARY KEY"
    db.execute_sql(f"CREATE TABLE IF NOT EXISTS chain_checkpoint (id {key}, created_at TEXT NOT NULL, "
                   "heads TEXT NOT NULL, stock TEXT NOT NULL, hash TEXT NOT NULL)")
    (_append_only_sqlite if is_sqlite(db) else _append_only_postgres)(db, ("chain_link", "chain_checkpoint"))
    from shopkeeper.services import chain

    for stream in chain.STREAMS:
        chain.seal_unlinked(stream)
    if not db.execute_sql("SELECT 1 FROM chain_checkpoint LIMIT 1").fetchone():
        from shopkeeper.services.chain_check import journal_sums

        now = chain.head()
        chain.store_checkpoint(now.positions, now.hashes, journal_sums())


def _m023_product_sales_span(db: Database) -> None:
    """Kept per-product sales of spans of closed UTC days (``services/product_sales_cache.py``): a cache, checked
    against the sale table on every read, so neither append-only nor part of the books. Days are numbered from
    1970-01-01; a span is ``first_day`` up to (not including) ``end_day``; its figures are packed, one row a span."""
    blob = "BLOB" if is_sqlite(db) else "BYTEA"
    db.execute_sql(f"CREATE TABLE IF NOT EXISTS product_sales_span (first_day BIGINT NOT NULL, end_day BIGINT NOT "
                   f"NULL, sale_rows BIGINT NOT NULL, kept_at TEXT NOT NULL, figures {blob} NOT NULL, "
                   "PRIMARY KEY (first_day, end_day))")


def _m024_journal_reports(db: Database) -> None:
    """The stock reports (``services/reports.py``, ``services/journal_cache.py``): adjustments and counts by date
    from a partial covering index (a sale's movement is not in it, so the till pays nothing for it), the products'
    values from a covering index (a sale rewrites its product's entry there), and the kept running totals of the
    journal at closed month starts (a cache, checked against the journal on every read)."""
    db.execute_sql("CREATE INDEX IF NOT EXISTS movement_loss ON movement (created_at, kind, reason, product_id, "
                   "quantity, unit_cost) WHERE kind IN ('adjust', 'count')")
    # valuation: every product's value summed by category and supplier in index order (no sort, no table read)
    db.execute_sql("CREATE INDEX IF NOT EXISTS product_value ON product (category, supplier_id, on_hand, avg_cost, "
                   "price)")
    rowid = " WITHOUT ROWID" if is_sqlite(db) else ""
    db.execute_sql("CREATE TABLE IF NOT EXISTS journal_mark (boundary TEXT NOT NULL, anchor TEXT NOT NULL, "
                   "rows_from_anchor BIGINT NOT NULL, PRIMARY KEY (anchor, boundary))" + rowid)
    db.execute_sql("CREATE TABLE IF NOT EXISTS journal_kept (anchor TEXT NOT NULL, boundary TEXT NOT NULL, "
                   "product_id BIGINT NOT NULL, received BIGINT NOT NULL, sold BIGINT NOT NULL, "
                   "returned BIGINT NOT NULL, adjusted BIGINT NOT NULL, counted BIGINT NOT NULL, "
                   "to_supplier BIGINT NOT NULL, PRIMARY KEY (anchor, boundary, product_id))" + rowid)


def _m025_open_sale_payments(db: Database) -> None:
    """Part payments taken on an open sale (``OpenSalePayment``): from the first one, payment has started, and
    taking a line off the sale (or lowering its quantity) needs ``remove_line_after_payment``."""
    from shopkeeper.models import OpenSalePayment

    _new_tables(db, [OpenSalePayment])


def _m026_movement_created_at_covering(db: Database) -> None:
    """The journal's date index also holds each movement's kind, product and quantity, so a report over a range of
    days (which products sold lately, what moved per product and kind, the reorder window) reads the index alone
    instead of a table row per movement: the slow-movers' last 60 days of a 10M-row journal took 370 ms of
    random row reads. Same name and first column, so ``INDEXED BY movement_created_at`` still holds; a sale still
    writes one entry there, a few bytes longer. Rebuilding it reads the journal once (a minute on 10M rows)."""
    db.execute_sql("DROP INDEX IF EXISTS movement_created_at")
    db.execute_sql("CREATE INDEX movement_created_at ON movement (created_at, kind, product_id, quantity)")


def _m027_journal_marks_packed(db: Database) -> None:
    """A kept mark of the journal (``services/journal_cache.py``) holds its running totals per product packed in
    its own row, read back as one blob instead of a row per product. The marks kept so far are a cache: dropped,
    with the table of their totals, and kept afresh by the next ``movement`` report."""
    blob = "BLOB" if is_sqlite(db) else "BYTEA"
    db.execute_sql("DROP TABLE IF EXISTS journal_kept")
    db.execute_sql("DROP TABLE IF EXISTS journal_mark")
    db.execute_sql(f"CREATE TABLE journal_mark (anchor TEXT NOT NULL, boundary TEXT NOT NULL, rows_from_anchor BIGINT "
                   f"NOT NULL, figures {blob} NOT NULL, PRIMARY KEY (anchor, boundary))")


def _m028_stock_marks(db: Database) -> None:
    """Kept stock and average cost of every product at closed month starts (``services/stock_cache.py``), which
    ``valuation --at`` replays on from: a cache, checked against the journal on every read."""
    rowid = " WITHOUT ROWID" if is_sqlite(db) else ""
    db.execute_sql("CREATE TABLE IF NOT EXISTS stock_mark (boundary TEXT NOT NULL PRIMARY KEY, "
                   "position BIGINT NOT NULL, last_id BIGINT NOT NULL)" + rowid)
    db.execute_sql("CREATE TABLE IF NOT EXISTS stock_kept (boundary TEXT NOT NULL, product_id BIGINT NOT NULL, "
                   "on_hand BIGINT NOT NULL, avg_cost BIGINT NOT NULL, last_id BIGINT NOT NULL, "
                   "PRIMARY KEY (boundary, product_id))" + rowid)


def _m029_sales_day_tenders(db: Database) -> None:
    """Sales by payment method come from the payment rows (a split sale adds each tender to its own method), kept
    per day as ``sales_day`` rows of dimensions ``tender`` and ``rounding``: the kept days, which have none, are
    dropped, to be summed again on their next read (the table is a cache)."""
    db.execute_sql("DELETE FROM sales_day")


MIGRATIONS: list[Callable[[Database], None]] = [
    _m001_initial, _m002_shop_settings, _m003_till_claims, _m004_draft_discount_rates, _m005_bigint_text,
    _m006_lot_expiry, _m007_sale_created_at, _m008_sales_hour, _m009_product_change,
    _m010_one_open_sale_per_till, _m011_search_indexes,
    _m012_change_notices, _m013_product_search_text, _m014_ordering, _m015_till_sessions_payments,
    _m016_audit_event, _m017_tax_rate_thousandths, _m018_import_runs, _m019_po_line_edited,
    _m020_reorder_position, _m021_staff_pins, _m022_chain, _m023_product_sales_span, _m024_journal_reports,
    _m025_open_sale_payments, _m026_movement_created_at_covering, _m027_journal_marks_packed,
    _m028_stock_marks, _m029_sales_day_tenders,
]
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(db: Database) -> int:
    if not db.table_exists("schema_version", schema=current_schema(db)):
        return 0
    row = db.execute_sql("SELECT MAX(version) FROM schema_version").fetchone()
    return row[0] or 0


def migrate(db: Database) -> int:
    """Apply every pending migration; returns the schema version."""
    version = current_version(db)
    if version > SCHEMA_VERSION:
        raise ShopError(
            f"database schema version {version} is newer than this shopkeeper understands ({SCHEMA_VERSION}); "
            "upgrade shopkeeper"
        )
    while version < SCHEMA_VERSION:
        with db.atomic():
            # Re-read inside the write lock: another process may have migrated meanwhile.
            version = current_version(db)
            if version >= SCHEMA_VERSION:
                break
            MIGRATIONS[version](db)
            version += 1
            SchemaVersion.insert(version=version).execute()
    return version
