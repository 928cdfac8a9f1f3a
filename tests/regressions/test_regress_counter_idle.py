"""Counter, sell mode, --sale-end idle, negative_stock=refuse: one out-of-stock scan poisons every later sale."""
import time
from dataclasses import replace

from shopkeeper.counter import Counter
from shopkeeper.models import Sale, SaleLine
from shopkeeper.services import catalog, stock

MILK, COFFEE = "4006381333931", "8711000530085"


def sold_at(terminal: str) -> list[int]:
    from shopkeeper.models import Terminal
    return [l.product_id for l in SaleLine.select().join(Sale).join(Terminal)
            .where((Sale.kind == "sale") & (Terminal.name == terminal))]


def test_refused_scan_in_idle_mode_does_not_block_later_sales(demo_db, ctx):
    refuse = replace(ctx, negative_stock="refuse", terminal="shelf-1")
    coffee = catalog.find_product("COFFEE-500")
    if coffee.on_hand > 0:
        stock.adjust(refuse, coffee, -coffee.on_hand, reason="lost")
    counter = Counter(refuse, "sell", sale_end="idle", idle_seconds=5)
    counter.begin()
    first = counter.handle(COFFEE)     # out of stock: the design says refused, signalled as error, skipped
    counter.tick(time.monotonic() + 10)
    counter.handle(MILK)               # the next customer takes a milk
    counter.tick(time.monotonic() + 10)
    counter.finish()
    sold = sold_at("shelf-1")
    assert catalog.find_product("MILK-1L").id in sold, "the milk was never sold: stuck behind the refused coffee"
    assert not first.ok, "the refused scan was reported ok (green LED/beep) though it can never be sold"


def test_a_busy_database_at_idle_commit_is_retried_not_merged_into_the_next_customer(demo_db, ctx, monkeypatch):
    from shopkeeper.db import DatabaseBusy
    from shopkeeper.services import till

    shelf = replace(ctx, terminal="shelf-2")
    counter = Counter(shelf, "sell", sale_end="idle", idle_seconds=5)
    counter.begin()
    assert counter.handle(MILK).ok                         # customer 1
    real = till.complete
    calls = []

    def busy_once(*a, **kw):
        if not calls:
            calls.append(1)
            raise DatabaseBusy("the database is busy")      # a backup or an import held the lock
        return real(*a, **kw)

    monkeypatch.setattr(till, "complete", busy_once)
    counter.tick(time.monotonic() + 10)                    # commit fails once
    counter.tick(time.monotonic() + 60)                    # a minute later, nothing else happened
    assert catalog.find_product("MILK-1L").id in sold_at("shelf-2"), \
        "customer 1's sale is never retried: it waits for the next customer's scans"
