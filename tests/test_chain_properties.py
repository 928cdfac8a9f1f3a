"""Property: whatever the batches sealed (any ``SEAL_EVERY``, any number of sales and stock changes), a sealed row
rewritten behind the app's back is named by ``check --full``, and a head printed after it was sealed is no longer
extended, even with the chain recomputed."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopkeeper.db import close_database, open_database
from shopkeeper.models import database
from shopkeeper.services import chain, sales, stock
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.chain_check import check
from shopkeeper.services.context import Context

op = st.one_of(
    st.tuples(st.just("sell"), st.sampled_from(["A", "B"]), st.integers(1, 3_000)),
    st.tuples(st.just("receive"), st.sampled_from(["A", "B"]), st.integers(1, 3_000)),
)
# (table, stream, column, new value): a field a rewrite would touch, and the chain that covers it
REWRITES = [("movement", "movement", "quantity", 123_456_789), ("movement", "movement", "reason", "rewritten"),
            ("sale", "sale", "total", -999_999), ("sale_line", "sale", "unit_price", -999_999),
            ("payment", "sale", "amount", -999_999)]  # values no operation here writes


def _recompute(path: Path, stream: str) -> None:
    """The attacker's next step: every link of ``stream`` recomputed from the rows as they now are."""
    open_database(str(path))
    links = database.execute_sql("SELECT position, row_id FROM chain_link WHERE stream = ? ORDER BY position",
                                 (chain.STREAMS[stream],)).fetchall()
    found = chain.contents(stream, [row_id for _, row_id in links])
    close_database()
    con = sqlite3.connect(path)
    prev = chain.genesis(stream)
    for position, row_id in links:
        prev = chain.link_hash(prev, found[row_id])
        con.execute("UPDATE chain_link SET hash = ? WHERE stream = ? AND position = ?",
                    (prev, chain.STREAMS[stream], position))
    con.commit()
    con.close()


def _rewrite(path: Path, table: str, column: str, value, row_id: int) -> None:
    con = sqlite3.connect(path)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {name}")
    con.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (value, row_id))
    con.commit()
    con.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op, min_size=1, max_size=12), every=st.integers(1, 5), pick=st.integers(0, 10**6),
       rewrite=st.sampled_from(REWRITES))
def test_a_sealed_row_rewritten_is_named_and_breaks_a_later_head(ops, every, pick, rewrite):
    table, stream, column, value = rewrite
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "shop.db"
        open_database(str(path))
        old_every = chain.SEAL_EVERY
        chain.SEAL_EVERY = every
        try:
            ctx = Context(staff="p", terminal="t", negative_stock="allow")
            for sku in ("A", "B"):
                save_product(ProductData(sku=sku, name=sku, price=199))
            stock.receive(ctx, "A", 1_000, 50)
            sales.sell(ctx, [sales.LineInput("B", 1_000)], payment="card")  # at least one of each row
            for kind, sku, qty in ops:
                if kind == "sell":
                    sales.sell(ctx, [sales.LineInput(sku, qty)], payment="card")
                else:
                    stock.receive(ctx, sku, qty, 60)
            printed = str(chain.head())  # seals everything, as a Z report would
            ids = [r[0] for r in database.execute_sql(f"SELECT id FROM {table} ORDER BY id")]
            row_id = ids[pick % len(ids)]
            owner = row_id if table in ("movement", "sale") else database.execute_sql(
                f"SELECT sale_id FROM {table} WHERE id = ?", (row_id,)).fetchone()[0]
            close_database()
            _rewrite(path, table, column, value, row_id)
            open_database(str(path))
            report = check(full=True, store=False)
            assert [(b.stream, b.row_id) for b in report.breaks] == [(stream, owner)]
            close_database()
            _recompute(path, stream)
            open_database(str(path))
            assert check(full=True, store=False).breaks == []  # consistent on its own …
            assert not check(against=printed, store=False).against.ok  # … but not with the head printed
        finally:
            chain.SEAL_EVERY = old_every
            close_database()
