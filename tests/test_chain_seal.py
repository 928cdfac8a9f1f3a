"""Sealing at commit, fast: rows are hashed from the values the services inserted (not read back), and the tips a
connection sealed last are reused while no one else committed. Neither may ever put a wrong link in a chain."""

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


@pytest.fixture
def from_values_only(monkeypatch):
    """Sealing must not read a row back: reading fails the test; the suite's cross-check is off, so what is
    sealed is only what the values gave."""
    monkeypatch.setattr(chain, "CROSS_CHECK", False)
    contents = chain.contents

    def no_reading(stream, ids, cursor=None):
        if stream != "audit":  # the audit log registers its rows by id
            raise AssertionError(f"{stream} rows {ids} were read back at seal")
        return contents(stream, ids, cursor)

    monkeypatch.setattr(chain, "contents", no_reading)
    yield
    monkeypatch.undo()


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


def test_rows_sealed_from_their_values_verify_as_if_read_back(shop, ctx, from_values_only):
    _varied_sales(ctx)
    report = check(full=True)
    assert report.ok, [str(b) for b in report.breaks]
    assert report.head.positions["sale"] == 3 and report.head.positions["movement"] == 8


def test_the_values_hashed_are_the_bytes_read_back(shop, ctx, monkeypatch):
    """The same content either way: what ``register_row`` was given encodes to what ``contents`` reads."""
    registered: dict[str, dict[int, bytes]] = {}
    encoded = chain._encoded

    def keep(stream, *row):
        content = encoded(stream, *row)
        registered.setdefault(stream, {})[row[0][0]] = content
        return content

    monkeypatch.setattr(chain, "_encoded", keep)
    _varied_sales(ctx)
    assert set(registered) == {"sale", "movement"}
    for stream, rows in registered.items():
        assert chain.contents(stream, sorted(rows)) == rows


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


def test_another_connection_committing_makes_the_next_seal_read_the_tips(shop, ctx):
    """The tips a connection keeps are stale once another one commits (another till, another process):
    ``PRAGMA data_version`` says so, and the next seal reads them; otherwise it would reuse a position."""
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


def test_tips_of_a_commit_that_failed_after_sealing_are_forgotten(shop, ctx, monkeypatch):
    """The seal ran, then the commit failed (here: a later commit hook raises): its links were never stored, so
    the next sale must not count on them; it continues the chain from what is committed."""
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


def test_stale_tips_kept_by_a_connection_cost_a_read_not_the_sale(shop, ctx):
    """Should the tips a connection keeps ever be stale, the link's position is taken (the primary key: never a
    fork); the seal reads the tips and links the sale after them instead of failing it."""
    sales.sell(ctx, [sales.LineInput("MILK", 1000)], payment="card")
    older = chain._pending.tips[3]
    sales.sell(ctx, [sales.LineInput("MILK", 1000)], payment="card")
    chain._pending.tips = (*chain._pending.tips[:3], older)  # as if this connection had missed a commit
    sales.sell(ctx, [sales.LineInput("BREAD", 1000)], payment="card")
    report = check(full=True)
    assert report.ok, [str(b) for b in report.breaks]
    assert report.head.positions == {"movement": 5, "sale": 3, "audit": 0}


def test_the_canonical_encoding_is_pythons_json_encoder_byte_for_byte():
    """Version 1's content is what ``json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))`` writes; the
    chain calls the C encoder underneath it directly, which must write the same."""
    import json

    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
    for value in ([1, -2, 2**63 - 1, -(2**63), 0, None, "", 'q"uote', "back\\slash", "nl\n\t\x01\x7f", "ü€🎃\u2028"],
                  [(1, "a", None), [(2, "b", None)], []], ()):
        assert chain._json(value) == encode(value)
    assert chain.canonical((1, "x", None)) == b'[1,"x",null]'
