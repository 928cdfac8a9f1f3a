"""Sealing on SQLite: in batches, every ``chain.SEAL_EVERY`` commits, before any head, by ``check`` and at close;
every row above a stream's last link is committed and unlinked, and the next seal links them all in id order.
(PostgreSQL seals each transaction's rows at its commit, from the values the services bound: tests/test_postgres.py.)
None of it may ever put a wrong link in a chain."""

from __future__ import annotations

import threading

import pytest

from shopkeeper import db as shop_db
from shopkeeper.db import write_transaction
from shopkeeper.models import Product, Sale, database
from shopkeeper.services import chain, sales, stock
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.chain_check import check
from shopkeeper.services.context import Context
from shopkeeper.services.stock import Entry
from shopkeeper.services.tenders import Tender


@pytest.fixture
def shop(db, ctx):
    save_product(ProductData(sku="MILK", name="Milk", price=129, tax_rate=7_000, barcodes=["4006381333931"]))
    save_product(ProductData(sku="BREAD", name="Bread", price=250))
    stock.receive(ctx, "MILK", 20_000, 80)
    stock.receive(ctx, "BREAD", 5_000, 120)
    return db


def test_a_value_of_another_type_is_read_back_not_trusted(shop, ctx, monkeypatch):
    """A bool is stored as 1 (JSON ``true`` would not match the row read back): such a row is read back."""
    monkeypatch.setattr(chain, "CROSS_CHECK", False)
    milk = Product.get(Product.sku == "MILK").id
    stock.post_movements(ctx, [Entry(milk, "adjust", 1000, unit_cost=True, reason="x")])
    assert check(full=True).ok


def test_a_sale_undone_by_a_savepoint_outside_write_transaction_gets_no_link(shop, ctx, monkeypatch):
    """The counter mode's trial commit: a sale written in a savepoint that is rolled back by hand (no rollback
    hook runs). Its registered values must not be sealed: every row is read back instead, and it is gone."""
    monkeypatch.setattr(chain, "CROSS_CHECK", False)
    with write_transaction():
        with database.atomic() as trial:
            sales.sell(ctx, [sales.LineInput("MILK", 1000)], payment="card")
            trial.rollback()
        stock.receive(ctx, "BREAD", 1000, 100)
    assert Sale.select().count() == 0
    report = check(full=True)
    assert report.ok, [str(b) for b in report.breaks]
    assert report.head.positions == {"movement": 3, "sale": 0, "audit": 0}


def test_two_connections_committing_in_turn_are_linked_in_one_chain(shop, ctx, monkeypatch):
    """Another till (another connection, as another process would be) commits between this one's sales; a seal by
    either links every row above the tips, whoever wrote it: one chain, in commit order, no position used twice."""
    monkeypatch.setattr(chain, "SEAL_EVERY", 2)
    sales.sell(ctx, [sales.LineInput("MILK", 1000)], payment="card")  # this connection keeps the tips

    def other_till() -> None:
        with database.connection_context():
            sales.sell(Context(staff="t2", terminal="till-2"), [sales.LineInput("BREAD", 1000)], payment="card")

    thread = threading.Thread(target=other_till)
    thread.start()
    thread.join(30)
    sales.sell(ctx, [sales.LineInput("MILK", 1000)], payment="card")
    report = check(full=True)
    assert report.ok and report.head.positions == {"movement": 5, "sale": 3, "audit": 0}


def test_links_of_a_commit_that_failed_after_sealing_are_rolled_back_with_it(shop, ctx, monkeypatch):
    """The seal ran, then the commit failed (here: a later commit hook raises): its links were never stored; the
    next seal continues the chain from what is committed."""
    monkeypatch.setattr(chain, "SEAL_WITHIN", 0.0)  # this commit seals
    def fail() -> None:
        raise RuntimeError("commit failed")

    monkeypatch.setattr(shop_db, "_before_commit_hooks", [*shop_db._before_commit_hooks, fail])
    with pytest.raises(RuntimeError):
        sales.sell(ctx, [sales.LineInput("MILK", 1000)], payment="card")
    monkeypatch.undo()
    sales.sell(ctx, [sales.LineInput("MILK", 1000)], payment="card")
    report = check(full=True)
    assert report.ok, [str(b) for b in report.breaks]
    assert report.head.positions == {"movement": 3, "sale": 1, "audit": 0}


def test_registering_by_id_still_seals_rows_written_elsewhere(shop, ctx):
    """``chain.register`` (the import, the audit log, any caller with its own INSERT) reads the row at commit."""
    p = database.param
    with write_transaction():
        cursor = database.execute_sql(
            f"INSERT INTO movement ({chain.insert_columns('movement')}) VALUES ({', '.join([p] * 16)})",
            (Product.get(Product.sku == "MILK").id, "adjust", 500, 80, None, "found", None, None,
             "2026-01-01T00:00:00.000000Z", "", None, None, None, None, None, None))
        chain.register("movement", cursor.lastrowid)
    report = check(full=True)
    assert report.breaks == [] and report.head.positions["movement"] == 3


def test_the_canonical_encoding_is_pythons_json_encoder_byte_for_byte():
    """Version 1's content is what ``json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))`` writes; the
    chain calls the C encoder underneath it directly, which must write the same."""
    import json

    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
    for value in ([1, -2, 2**63 - 1, -(2**63), 0, None, "", 'q"uote', "back\\slash", "nl\n\t\x01\x7f", "ü€🎃\u2028"],
                  [(1, "a", None), [(2, "b", None)], []], ()):
        assert chain._json(value) == encode(value)
    assert chain.canonical((1, "x", None)) == b'[1,"x",null]'


def _links() -> int:
    return database.execute_sql("SELECT COUNT(*) FROM chain_link").fetchone()[0]


def _varied_sales(ctx: Context) -> None:
    """Sales whose rows hold every kind of value: NULLs, a one-off item with quotes and non-ASCII text, a lot and
    an expiry, a sale discount, a split tender with cash change, a refund (negative amounts, an original line)."""
    sales.sell(ctx, [sales.LineInput("MILK", 2000, lot="L-7", expiry="2027-01-31"), sales.LineInput("BREAD", 1000)],
               payment="card")
    sales.sell(ctx, [sales.LineInput(None, 1000, description='Kürbis "groß" \\ 🎃', unit_price=350, tax_rate=0)],
               discount=20, payments=[Tender("card", 100), Tender("cash", 500)])
    stock.adjust(ctx, "BREAD", -1000, "damaged", note="dropped — ü")
    stock.receive(ctx, "MILK", 3000, 90, reference="INV-1")
    sales.refund(ctx, sale_id=Sale.select(Sale.id).order_by(Sale.id).first().id)


def test_sales_on_sqlite_are_linked_every_seal_every_commits_not_in_each_sale(shop, ctx, monkeypatch):
    """The till's commits write no link until the batch is due; then one commit links every row not linked yet
    (its own and the earlier ones), in id order, and ``check`` re-hashing every row agrees."""
    monkeypatch.setattr(chain, "SEAL_EVERY", 3)
    chain.seal_pending()
    before = _links()
    sales.sell(ctx, [sales.LineInput("MILK", 1000)], payment="card")
    sales.sell(ctx, [sales.LineInput("BREAD", 1000)], payment="card")
    assert _links() == before  # two commits: nothing written to the chain yet
    assert chain.unsealed() == {"movement": 2, "sale": 2, "audit": 0}
    sales.sell(ctx, [sales.LineInput("MILK", 1000)], payment="card")
    assert _links() == before + 6 and chain.unsealed() == {"movement": 0, "sale": 0, "audit": 0}
    report = check(full=True)
    assert report.ok and report.head.positions == {"movement": 5, "sale": 3, "audit": 0}


def test_the_first_commit_after_seal_within_seconds_seals(shop, ctx, monkeypatch):
    """A quiet till is not left with unlinked rows for long: a commit made when the oldest unlinked one is
    ``SEAL_WITHIN`` old seals, however few came before it."""
    chain.seal_pending()
    monkeypatch.setattr(chain, "SEAL_WITHIN", 0.0)
    sales.sell(ctx, [sales.LineInput("MILK", 1000)], payment="card")
    assert chain.unsealed() == {"movement": 0, "sale": 0, "audit": 0}


def test_a_bulk_commit_seals_its_own_rows_so_no_commit_links_more_than_a_batch(shop, ctx, monkeypatch):
    """An import's batch registers thousands of rows in one commit: it seals them itself (``SEAL_ROWS``), rather
    than leave fifty such batches for one commit to link while the tills wait for the write lock."""
    chain.seal_pending()
    monkeypatch.setattr(chain, "SEAL_ROWS", 6)
    milk, bread = (Product.get(Product.sku == sku).id for sku in ("MILK", "BREAD"))
    stock.post_movements(ctx, [Entry(milk if n % 2 else bread, "adjust", 1000, reason="found") for n in range(5)])
    assert chain.unsealed()["movement"] == 5
    stock.post_movements(ctx, [Entry(milk, "adjust", 1000, reason="found")])
    assert chain.unsealed()["movement"] == 0


def test_rows_of_every_kind_sealed_in_one_batch_verify(shop, ctx):
    _varied_sales(ctx)
    assert chain.unsealed()["sale"] == 3  # all of them in the coming batch
    head = chain.head()  # seals first: a head covers every row committed
    assert head.positions == {"movement": 8, "sale": 3, "audit": 1}
    report = check(full=True)
    assert report.ok, [str(b) for b in report.breaks]


def test_closing_the_shop_links_what_its_commits_left(shop, ctx, db_path):
    from shopkeeper.db import close_database, open_database

    sales.sell(ctx, [sales.LineInput("MILK", 1000)], payment="card")
    close_database()
    open_database(str(db_path))
    assert chain.unsealed() == {"movement": 0, "sale": 0, "audit": 0}
    assert check(full=True).ok


def test_check_counts_rows_it_could_not_seal_and_their_stock_without_failing(shop, ctx, monkeypatch):
    """A read-only check, or a till committing between check's seal and its snapshot: the rows above the last link
    are not a break, their movements count in the stock check, and no checkpoint is stored over them."""
    from shopkeeper.services import chain_check

    check(full=True)
    sales.sell(ctx, [sales.LineInput("MILK", 1000)], payment="card")
    monkeypatch.setattr(chain_check.chain, "seal_pending", lambda: 0)
    for full in (False, True):
        report = check(full=full)
        assert report.ok and report.mismatches == [], [str(b) for b in report.breaks]
        assert report.unsealed == {"movement": 1, "sale": 1} and not report.stored_checkpoint
    monkeypatch.undo()
    assert check().unsealed == {}


def test_check_says_which_rows_are_not_sealed_yet_and_why(shop, ctx, db_path, capsys, monkeypatch):
    """A database check may not write (a read-only file): it says so, verifies what is sealed, and passes."""
    from peewee import OperationalError

    from shopkeeper.cli import main

    check(full=True)
    sales.sell(ctx, [sales.LineInput("MILK", 1000)], payment="card")

    def cannot_write() -> int:
        raise OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(chain, "seal_pending", cannot_write)
    assert main(["--db", str(db_path), "check"]) == 0
    out = capsys.readouterr().out
    assert ("not sealed yet: 1 movement, 1 sale row(s) committed after the last seal (attempt to write a readonly "
            "database); the next seal links them") in out


SELLER = """
import sys
from shopkeeper.db import close_database, open_database
from shopkeeper.services import chain
from shopkeeper.services.context import Context
from shopkeeper.services.sales import LineInput, sell
chain.SEAL_EVERY = 7
open_database(sys.argv[1])
ctx = Context(staff="s", terminal=sys.argv[2], negative_stock="allow")
for n in range(30):
    sell(ctx, [LineInput("MILK" if n % 2 else "BREAD", 1000)], payment="card")
close_database()
"""


def test_three_processes_selling_at_once_on_sqlite_make_one_chain(shop, db_path):
    """Each process seals every 7 of its commits whatever the others wrote, and at close: one chain in commit
    (= id) order, every sale in it, no position twice."""
    import subprocess
    import sys

    procs = [subprocess.Popen([sys.executable, "-c", SELLER, str(db_path), f"till-{n}"], stderr=subprocess.PIPE,
                              text=True) for n in range(3)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert chain.unsealed() == {"movement": 0, "sale": 0, "audit": 0}
    report = check(full=True)
    assert report.ok and report.mismatches == [], [str(b) for b in report.breaks]
    assert report.head.positions == {"movement": 92, "sale": 90, "audit": 0}
