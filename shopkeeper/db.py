"""Open a shop database, keep its schema current, and run write transactions.

SQLite is opened in WAL mode with ``synchronous=FULL`` (an acknowledged sale survives a power cut), foreign keys on,
a busy timeout, and ``BEGIN IMMEDIATE`` for every write transaction, so two writers queue for the lock instead of
deadlocking on a lock upgrade. PostgreSQL (``postgresql://…``) is accepted for shops with several tills.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from peewee import Database, DatabaseError, OperationalError, SqliteDatabase

from shopkeeper.errors import ShopError
from shopkeeper.models import ALL_MODELS, SchemaVersion, TillClaim, database

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


def make_database(location: str, *, busy_timeout_ms: int = 10_000) -> Database:
    """A database object for a path, ``sqlite:///path`` or ``postgresql://user@host/db``."""
    if location.startswith(("postgres://", "postgresql://")):
        from playhouse.db_url import connect

        return connect(location)
    if location.startswith("sqlite:///"):
        location = location[len("sqlite:///") - 1 :] if location.startswith("sqlite:////") else location[10:]
    elif "://" in location:
        scheme = location.split("://", 1)[0]
        raise ShopError(f"database URL {scheme}://…: unsupported (use a file path, sqlite:///… or postgresql://…)")
    if location != ":memory:":
        parent = Path(location).expanduser().parent
        if not parent.exists():
            raise ShopError(f"database {location}: folder {parent} does not exist")
        location = str(Path(location).expanduser())
    pragmas = dict(SQLITE_PRAGMAS, busy_timeout=busy_timeout_ms)
    return SqliteDatabase(location, pragmas=pragmas, timeout=busy_timeout_ms / 1000, lock_type="IMMEDIATE")


def open_database(location: str, *, busy_timeout_ms: int = 10_000, create: bool = True) -> Database:
    """Bind the models to the database at ``location`` and bring its schema up to date."""
    if not create and "://" not in location and location != ":memory:" and not Path(location).exists():
        raise ShopError(f"database {location}: not found (run `shopkeeper init` first)")
    db = make_database(location, busy_timeout_ms=busy_timeout_ms)
    database.initialize(db)
    for hook in _rollback_hooks:  # ids cached from another database (or an earlier life of this one) mean nothing
        hook()
    try:
        db.connect(reuse_if_open=True)
    except (DatabaseError, OSError) as exc:
        from shopkeeper.locations import display_location

        # One line, naming host and database only: a PostgreSQL URL may carry a password.
        detail = " ".join(str(exc).split())
        raise ShopError(f"database {display_location(location)}: cannot open: {detail}") from None
    migrate(db)
    return db


def close_database() -> None:
    if database.obj is not None and not database.obj.is_closed():
        database.obj.close()


_rollback_hooks: list[Callable[[], None]] = []


def on_rollback(hook: Callable[[], None]) -> None:
    """Call ``hook`` whenever a write transaction (or savepoint) rolls back, and whenever a database is opened:
    caches of ids must forget rows that were never committed, or that belong to another database."""
    _rollback_hooks.append(hook)


@contextlib.contextmanager
def write_transaction() -> Iterator[None]:
    """One write transaction: ``BEGIN IMMEDIATE`` on SQLite. Nested calls become savepoints."""
    try:
        with database.obj.atomic():  # the bound database: through the proxy, each step inside costs a lookup
            yield
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
                                   "saved, try again") from None
        raise


_BUSY = ("database is locked", "database table is locked", "database is busy", "lock timeout")
"""SQLite's busy timeout running out (and PostgreSQL's lock_timeout, when a shop sets one)."""
_CLASHED = ("deadlock detected", "could not serialize access")
"""PostgreSQL ending one of two transactions that waited for each other."""


class DatabaseBusy(ShopError):
    """The busy timeout ran out while another process held the write lock. Nothing was written."""


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
    """SQLite's ``PRAGMA data_version``: changes when another connection commits. Cheap; poll it."""
    if is_sqlite():
        return database.execute_sql("PRAGMA data_version").fetchone()[0]
    # PostgreSQL has no per-connection equivalent; the newest movement and product change ids are a fair stand-in
    # (their sum grows whenever either table does: stock moved, or a price, tax, cost, unit or active flag changed).
    row = database.execute_sql("SELECT COALESCE((SELECT MAX(id) FROM movement), 0) + "
                               "COALESCE((SELECT MAX(id) FROM product_change), 0)").fetchone()
    return row[0]


# --- migrations -----------------------------------------------------------------------------------------------
# One numbered step per schema change; a shop's database is brought forward step by step, each in a transaction.

APPEND_ONLY_TABLES = ("movement", "sale", "sale_line")
"""The tables m001 protects; later migrations protect their own tables (``product_change`` in m005)."""


def _append_only_sqlite(db: Database, tables: Sequence[str] = APPEND_ONLY_TABLES) -> None:
    for table in tables:
        for action in ("UPDATE", "DELETE"):
            db.execute_sql(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: post a correcting entry instead'); END"
            )


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
        if "discount_rate" not in {column.name for column in db.get_columns(table)}:
            migrate(migrator.add_column(table, "discount_rate", IntegerField(null=True)))


def _m005_product_change(db: Database) -> None:
    """The product change log (price, tax, average cost, unit, active: who, when, till, old → new), append-only."""
    from shopkeeper.models import ProductChange

    db.create_tables([ProductChange])
    if is_sqlite(db):
        _append_only_sqlite(db, ("product_change",))
    else:
        _append_only_postgres(db, ("product_change",))


MIGRATIONS: list[Callable[[Database], None]] = [
    _m001_initial, _m002_shop_settings, _m003_till_claims, _m004_draft_discount_rates, _m005_product_change,
]
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(db: Database) -> int:
    if not db.table_exists("schema_version"):
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
