"""The hash chains over the journal, sales and audit log: a row changed behind the app's back is caught."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from shopkeeper.cli import main
from shopkeeper.db import close_database, open_database, write_transaction
from shopkeeper.errors import InvalidInput
from shopkeeper.models import database
from shopkeeper.services import audit_log, chain, sales, stock
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.chain_check import check


@pytest.fixture
def shop(db, ctx):
    save_product(ProductData(sku="MILK", name="Milk", price=129, tax_rate=700, barcodes=["4006381333931"]))
    save_product(ProductData(sku="BREAD", name="Bread", price=250))
    stock.receive(ctx, "MILK", 20_000, 80)
    stock.receive(ctx, "BREAD", 5_000, 120)
    for qty in (1000, 2000, 3000):
        sales.sell(ctx, [sales.LineInput("MILK", qty), sales.LineInput("BREAD", 1000)], payment="card")
    with write_transaction():
        audit_log.record(ctx, "drawer_opened", subject="till:1")
    return db


def _rewrite(path, sql: str, params=()) -> None:
    """Change the file as an attacker with write access would: drop the append-only triggers, rewrite."""
    con = sqlite3.connect(path)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {name}")
    con.execute(sql, params)
    con.commit()
    con.close()


def _recompute_chain(path, stream: str) -> None:
    """The attacker's next step: recompute every link of ``stream`` from the start, as the app would."""
    close_database()
    open_database(str(path))
    links = database.execute_sql("SELECT position, row_id FROM chain_link WHERE stream = ? ORDER BY position",
                                 (chain.STREAMS[stream],)).fetchall()
    found = chain.contents(stream, [row_id for _, row_id in links])
    prev = chain.genesis(stream)
    con = database.connection()
    for position, row_id in links:
        prev = chain.link_hash(prev, found[row_id])
        con.execute("UPDATE chain_link SET hash = ? WHERE stream = ? AND position = ?",
                    (prev, chain.STREAMS[stream], position))
    con.commit()


def test_every_sale_movement_and_audit_event_is_linked_in_its_own_transaction(shop):
    head = chain.head()
    assert head.positions == {"movement": 8, "sale": 3, "audit": 1}
    report = check(full=True)
    assert report.ok and report.breaks == []
    assert str(report.head) == str(head)
    assert str(head).startswith("chain:movement=8,sale=3,audit=1:sha256:")
    assert len(str(head)) <= 64  # a receipt line (or two on a 32-column printer)


def test_a_refused_sale_leaves_no_link(shop, ctx):
    from shopkeeper.errors import StockRefused

    with pytest.raises(StockRefused):
        sales.sell(replace(ctx, negative_stock="refuse"), [sales.LineInput("BREAD", 99_000)])
    assert chain.head().positions == {"movement": 8, "sale": 3, "audit": 1}
    assert check(full=True).ok


def test_a_plain_rewrite_is_caught_by_check_alone_naming_the_row(shop, db_path):
    sale_line = database.execute_sql("SELECT id FROM sale_line WHERE sale_id = 2 ORDER BY id").fetchone()[0]
    close_database()
    _rewrite(db_path, "UPDATE sale_line SET unit_price = 1 WHERE id = ?", (sale_line,))
    open_database(str(db_path))
    report = check()
    assert not report.ok
    assert [(b.stream, b.row_id) for b in report.breaks] == [("sale", 2)]
    assert "does not match its hash" in report.breaks[0].reason


def test_a_deleted_movement_is_caught(shop, db_path):
    close_database()
    _rewrite(db_path, "DELETE FROM movement WHERE id = 4")
    open_database(str(db_path))
    report = check()
    assert ("movement", 4) in [(b.stream, b.row_id) for b in report.breaks]
    assert "gone" in report.breaks[0].reason


def test_a_row_slipped_in_among_sealed_rows_is_not_in_the_chain(shop, db_path):
    chain.head()  # sealed
    close_database()
    _rewrite(db_path, "INSERT INTO audit_event (id, created_at, kind, subject, detail) VALUES (0, 'x', 'void', '', '')")
    open_database(str(db_path))
    report = check()
    assert [(b.stream, b.row_id) for b in report.breaks] == [("audit", 0)]
    assert "not in the chain" in report.breaks[0].reason


def test_a_row_appended_behind_the_app_after_the_last_seal_is_linked_by_the_next(shop, db_path):
    """On SQLite a row above the last link is one committed since the last seal: the next seal links it, whoever
    wrote it. What protects history is a head printed before the rewrite (as with a chain recomputed by hand)."""
    printed = str(chain.head())
    close_database()
    _rewrite(db_path, "INSERT INTO audit_event (created_at, kind, subject, detail) VALUES ('x', 'void', '', '')")
    open_database(str(db_path))
    report = check(against=printed)
    assert report.ok and report.head.positions["audit"] == 2


def test_a_blob_written_behind_the_app_is_named_not_a_traceback(shop, db_path):
    close_database()
    _rewrite(db_path, "UPDATE movement SET reason = X'00FF' WHERE id = 2")
    open_database(str(db_path))
    report = check(full=True)
    assert [(b.stream, b.row_id) for b in report.breaks] == [("movement", 2)]


def test_a_rewrite_with_the_chain_recomputed_is_caught_against_an_earlier_head(shop, ctx, db_path):
    printed = str(chain.head())  # as the last Z report printed it
    sales.sell(ctx, [sales.LineInput("MILK", 1000)], payment="cash")  # the shop goes on
    assert check(against=printed).ok
    close_database()
    # the attacker lowers an early delivery, fixes the stock cache to match, and recomputes the chain
    _rewrite(db_path, "UPDATE movement SET quantity = 10000 WHERE id = 1")
    _rewrite(db_path, "UPDATE product SET on_hand = on_hand - 10000 WHERE sku = 'MILK'")
    _recompute_chain(db_path, "movement")
    close_database()
    open_database(str(db_path))
    assert check(full=True, store=False).breaks == []  # consistent on its own …
    report = check(against=printed)
    assert not report.ok and not report.against.ok  # … but not with what was printed
    assert "no longer have the hash this head printed" in report.against.reason


def test_check_from_a_checkpoint_verifies_only_what_came_after_and_keeps_stock_right(shop, ctx):
    first = check(full=True)
    assert first.stored_checkpoint
    sales.sell(ctx, [sales.LineInput("MILK", 1000)], payment="cash")
    report = check()
    assert report.ok and report.checkpoint is not None and report.mismatches == []
    assert report.verified["movement"] == (8, 9) and report.verified["sale"] == (3, 4)


def test_a_checkpoint_rewritten_is_caught(shop, db_path):
    check(full=True)
    close_database()
    _rewrite(db_path, "UPDATE chain_checkpoint SET stock = replace(stock, '\"1\"', '\"2\"')")
    open_database(str(db_path))
    report = check()
    assert not report.ok and "does not match its own hash" in report.checkpoint_problem


def test_printed_heads_are_parsed_or_refused_with_the_field(db):
    printed = chain.parse_head("chain:movement=5,sale=2,audit=0:sha256:0123456789abcdef0123")
    assert printed.positions == {"movement": 5, "sale": 2, "audit": 0}
    with pytest.raises(InvalidInput) as refused:
        chain.parse_head("chain:movement=5:sha256:0123456789abcdef")
    assert refused.value.field == "against" and "audit" in str(refused.value)


def test_check_prints_the_head_and_proves_extension_on_the_command_line(shop, db_path, capsys):
    close_database()
    db = str(db_path)
    assert main(["--db", db, "check"]) == 0
    out = capsys.readouterr().out
    head = out.strip().splitlines()[-1].removeprefix("chain head: ")
    assert main(["--db", db, "check", "--against", head]) == 0
    assert "ok: today's history extends" in capsys.readouterr().out
    assert main(["--db", db, "check", "--against", "chain:movement=9,sale=0,audit=0:sha256:0000000000000000"]) == 1
    assert "beyond this database's chains" in capsys.readouterr().out
    assert main(["--db", db, "check", "--against", "nonsense"]) == 2
    assert "expected chain:movement=N" in capsys.readouterr().err


def test_an_upgrade_links_every_earlier_row_and_checkpoints_them(shop, db_path):
    """A database from before the chain: m017 links its rows in id order and stores a first checkpoint."""
    from shopkeeper.db import _m022_chain

    close_database()
    con = sqlite3.connect(db_path)
    con.execute("DROP TABLE chain_link")
    con.execute("DROP TABLE chain_checkpoint")
    con.commit()
    con.close()
    db = open_database(str(db_path))
    with db.atomic():  # as migrate() runs it
        _m022_chain(db)
    assert chain.head().positions == {"movement": 8, "sale": 3, "audit": 1}
    report = check()
    assert report.ok and report.checkpoint is not None and report.verified["movement"] == (8, 8)
    assert check(full=True).ok


def test_the_head_printed_on_the_z_report_catches_a_rewrite_with_the_chain_recomputed(shop, ctx, db_path):
    """The issue's "done when": the Z report prints the head (on one line of its own); a delivery
    rewritten behind the app's back, stock cache and chain recomputed to match, fails ``check --against`` it."""
    from shopkeeper.services import till_session

    till_session.open(ctx, 10_000)
    sales.sell(ctx, [sales.LineInput("MILK", 1000)], payment="cash", till_session=till_session.current(ctx).id)
    report = till_session.close(ctx, 10_129)
    lines = report.text.splitlines()
    printed = lines[lines.index("shopkeeper check --against:") + 1]
    assert printed == report.chain_head == str(chain.head())
    assert check(against=printed).ok
    close_database()
    _rewrite(db_path, "UPDATE movement SET quantity = 10000 WHERE id = 1")
    _rewrite(db_path, "UPDATE product SET on_hand = on_hand - 10000 WHERE sku = 'MILK'")
    _recompute_chain(db_path, "movement")
    close_database()
    open_database(str(db_path))
    assert check(full=True, store=False).breaks == []
    assert not check(against=printed).ok


def test_a_books_export_prints_the_head_as_of_its_period_end(shop, ctx):
    """``head(until=...)``: the head over the rows created before a moment, the same however much is sold after
    it, so a closed period's export prints the same head every time."""
    from shopkeeper.db import utcnow

    assert chain.head(until="2000-01-01T00:00:00Z").positions == {"movement": 0, "sale": 0, "audit": 0}
    period_end = utcnow()
    as_then = str(chain.head())
    assert str(chain.head(until=period_end)) == as_then
    sales.sell(ctx, [sales.LineInput("MILK", 1000)], payment="card")
    audit_log_event = None
    with write_transaction():
        audit_log_event = audit_log.record(ctx, "export_made", subject="books")
    assert audit_log_event and str(chain.head()) != as_then
    assert str(chain.head(until=period_end)) == as_then
