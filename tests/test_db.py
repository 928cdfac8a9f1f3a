import peewee
import pytest

from shopkeeper.db import (
    SCHEMA_VERSION,
    DatabaseBusy,
    current_version,
    data_version,
    kept_figures_written,
    migrate,
    open_database,
    write_transaction,
)
from shopkeeper.errors import ShopError
from shopkeeper.models import Movement, Sale, SaleLine
from shopkeeper.services import sales, stock
from shopkeeper.services.catalog import ProductData, save_product


@pytest.fixture
def journal(db, ctx):
    save_product(ProductData(sku="TEA", name="Tea", price=300))
    stock.receive(ctx, "TEA", 5000, 100)
    sales.sell(ctx, [sales.LineInput("TEA", 1000)])
    return db


@pytest.mark.parametrize("sql", [
    "UPDATE movement SET quantity = 99",
    "DELETE FROM movement",
    "UPDATE sale SET total = 0",
    "DELETE FROM sale_line",
])
def test_database_refuses_to_rewrite_the_journal(journal, sql):
    with pytest.raises(peewee.IntegrityError, match="append-only"):
        journal.execute_sql(sql)
    assert Movement.select().count() == 2
    assert Sale.select().count() == 1 and SaleLine.select().count() == 1


def test_pragmas_for_many_writers_and_power_cuts(db):
    pragma = lambda name: db.execute_sql(f"PRAGMA {name}").fetchone()[0]
    assert pragma("journal_mode") == "wal"
    assert pragma("synchronous") == 2  # FULL
    assert pragma("foreign_keys") == 1
    assert pragma("busy_timeout") >= 5000


def test_write_transactions_take_the_lock_up_front(db):
    assert db._lock_type == "IMMEDIATE"


def test_migrations_are_idempotent_and_recorded(db):
    assert current_version(db) == SCHEMA_VERSION
    assert migrate(db) == SCHEMA_VERSION


def test_a_newer_schema_is_refused_not_damaged(db_path, db):
    db.execute_sql("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION + 5,))
    with pytest.raises(ShopError, match="upgrade shopkeeper"):
        open_database(str(db_path))


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ShopError, match="does not exist"):
        open_database(str(tmp_path / "nope" / "shop.db"))


def test_data_version_moves_when_another_connection_commits(db, db_path):
    import sqlite3

    before = data_version()
    other = sqlite3.connect(db_path)
    other.execute("INSERT INTO supplier (name, contact, lead_days) VALUES ('x', '', 0)")
    other.commit()
    other.close()
    assert data_version() != before


@pytest.mark.parametrize(("error", "says"), [
    ("database is locked", "the database is busy"),
    ("deadlock detected\nDETAIL:  Process 1 waits for ShareLock on transaction 2; blocked by process 3.",
     "another till was changing the same products"),
    ("could not serialize access due to concurrent update", "another till was changing the same products"),
])
def test_a_lost_race_for_a_lock_says_nothing_was_saved(db, error, says):
    with pytest.raises(DatabaseBusy, match=f"{says}.*nothing was saved, try again"), write_transaction():
        raise peewee.OperationalError(error)


def test_other_database_errors_are_not_called_busy(db):
    # "blocked" or "unlocked" in a message is no sign of a busy database
    with pytest.raises(peewee.OperationalError, match="no such table"), write_transaction():
        raise peewee.OperationalError("no such table: blocked_unlocked")


def test_kept_figures_are_left_unwritten_when_the_database_is_busy_and_the_report_goes_on(db):
    """The reports' kept sums are best effort: a busy database rolls their write back and says nothing (they are
    summed again next time); any other fault still surfaces."""
    with kept_figures_written():
        db.execute_sql("DELETE FROM sales_hour")
        db.execute_sql("INSERT INTO sales_hour (hour, kind, sale_rows, sales, total, tax, discount, cogs) "
                       "VALUES ('2026-01-01T10', 'sale', 1, 1, 100, 0, 0, 0)")
        raise peewee.OperationalError("database is locked")
    assert db.execute_sql("SELECT COUNT(*) FROM sales_hour").fetchone()[0] == 0
    with pytest.raises(ValueError), kept_figures_written():
        raise ValueError("a fault of ours")


def _as_before_lot_expiry(db) -> None:
    """Make ``db`` what the version before the lot/expiry migration created: no such columns, and that migration
    (wherever it stands in ``MIGRATIONS``) and any after it still to run."""
    from shopkeeper.db import MIGRATIONS, _m006_lot_expiry

    for table in ("open_sale_line", "sale_line", "movement"):
        for column in ("lot", "expiry"):
            db.execute_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
    db.execute_sql("DELETE FROM schema_version WHERE version > ?", (MIGRATIONS.index(_m006_lot_expiry),))


def test_lot_expiry_migration_upgrades_a_database_of_the_previous_version(journal, db_path, ctx):
    from shopkeeper.db import close_database

    _as_before_lot_expiry(journal)
    close_database()
    db = open_database(str(db_path))
    assert current_version(db) == SCHEMA_VERSION
    for table in ("open_sale_line", "sale_line", "movement"):
        assert {"lot", "expiry"} <= {c.name for c in db.get_columns(table)}
    old = SaleLine.get()
    assert (old.lot, old.expiry) == (None, None)  # what was sold before keeps no lot
    sale = sales.sell(ctx, [sales.LineInput("TEA", 1000, lot="B7", expiry="2027-01-31")])
    assert Movement.get(Movement.sale == sale.sale_id).lot == "B7"
    with pytest.raises(peewee.IntegrityError, match="append-only"):  # the journal's triggers are still there
        db.execute_sql("UPDATE movement SET lot = 'X'")


def test_new_columns_are_added_in_place_to_tables_other_rows_refer_to(db, ctx):
    """An upgrade adds a NOT NULL column with its DEFAULT in one ALTER TABLE: no table rebuild, which SQLite
    refuses (FOREIGN KEY constraint failed) for a table that sales and movements refer to, such as staff."""
    from shopkeeper.db import _add_missing_columns
    from shopkeeper.models import Product, Staff
    from shopkeeper.services import sales, stock
    from shopkeeper.services.catalog import ProductData, save_product

    save_product(ProductData(sku="MILK", name="Milk", price=129))
    stock.receive(ctx, "MILK", 5_000, 80)
    sales.sell(ctx, [sales.LineInput("MILK", 1_000)])
    db.execute_sql("DROP INDEX IF EXISTS product_position")  # it reads on_order
    for table, column in (("staff", "role"), ("staff", "failed_pins"), ("product", "reorder_mode"),
                          ("product", "on_order")):
        db.execute_sql(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    _add_missing_columns(db, Staff)
    _add_missing_columns(db, Product)
    staff = Staff.get(Staff.name == ctx.staff)
    product = Product.get(Product.sku == "MILK")
    assert (staff.role, staff.failed_pins, product.reorder_mode, product.on_order) == ("cashier", 0, "auto", 0)
    assert db.execute_sql("PRAGMA foreign_key_check").fetchall() == []
